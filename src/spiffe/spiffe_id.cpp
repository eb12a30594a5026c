// SPIFFE ID parsing, role matching and the own-identity check.
#include "spike_bootstrap/spiffe/spiffe_id.h"

#include <utility>

namespace spike_bootstrap::spiffe {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool isTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool isPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

Status invalidId(std::string_view text, std::string_view rule) {
  std::string message = "invalid SPIFFE ID \"";
  message += text;
  message += "\": ";
  message += rule;
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// Returns an empty string when name is a valid trust domain name, otherwise
// the rule it breaks.
std::string_view trustDomainProblem(std::string_view name) {
  if (name.empty()) {
    return "the trust domain is empty";
  }
  for (char c : name) {
    if (c == ':') {
      return "a port is not allowed";
    }
    if (c == '@') {
      return "user info is not allowed";
    }
    if (!isTrustDomainChar(c)) {
      return "the trust domain may only contain a-z, 0-9, '.', '-' and '_'";
    }
  }
  return {};
}

std::string_view pathProblem(std::string_view path) {
  // The path is "/seg/seg...", so each segment follows a '/'.
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start + 1);
    std::string_view segment = path.substr(
        start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1);
    if (segment.empty()) {
      return "path segments may not be empty (no '//' and no trailing '/')";
    }
    if (segment == "." || segment == "..") {
      return "path segments may not be '.' or '..'";
    }
    for (char c : segment) {
      if (!isPathChar(c)) {
        return "the path may only contain a-z, A-Z, 0-9, '.', '-', '_' and '/'";
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end;
  }
  return {};
}

}  // namespace

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kBootstrap:
      return "bootstrap";
    case Role::kKeeper:
      return "keeper";
    case Role::kNexus:
      return "nexus";
  }
  return "unknown";
}

std::string SpiffeId::toString() const {
  std::string text(kScheme);
  text += trustDomain;
  text += path;
  return text;
}

Result<SpiffeId> parseSpiffeId(std::string_view text) {
  if (!text.starts_with(kScheme)) {
    return invalidId(text, "it must start with spiffe://");
  }
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalidId(text, "a query or fragment is not allowed");
  }

  std::size_t slash = rest.find('/');
  std::string_view trustDomain = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (std::string_view problem = trustDomainProblem(trustDomain); !problem.empty()) {
    return invalidId(text, problem);
  }
  if (std::string_view problem = pathProblem(path); !problem.empty()) {
    return invalidId(text, problem);
  }
  return SpiffeId{std::string(trustDomain), std::string(path)};
}

Result<std::string> parseTrustDomain(std::string_view text) {
  std::string_view name = text;
  if (name.starts_with(kScheme)) {
    name.remove_prefix(kScheme.size());
  }
  if (std::string_view problem = trustDomainProblem(name); !problem.empty()) {
    std::string message = "invalid trust domain \"";
    message += text;
    message += "\": ";
    message += problem;
    return Status(StatusCode::kInvalidArgument, std::move(message));
  }
  return std::string(name);
}

RolePolicy::RolePolicy(Role role, std::vector<std::string> trustDomains)
    : role_(role), trustDomains_(std::move(trustDomains)) {}

bool RolePolicy::accepts(const SpiffeId& id) const {
  std::string base = "/spike/";
  base += roleName(role_);
  // Equal to the base path, or below it: "/spike/keeper/2" is a keeper,
  // "/spike/keeperx" is not.
  bool pathMatches = id.path == base || (id.path.starts_with(base) && id.path[base.size()] == '/');
  if (!pathMatches) {
    return false;
  }
  for (const std::string& trustDomain : trustDomains_) {
    if (id.trustDomain == trustDomain) {
      return true;
    }
  }
  return false;
}

std::string RolePolicy::describe() const {
  std::string text = "a ";
  text += roleName(role_);
  text += " ID (";
  if (trustDomains_.empty()) {
    text += "no trust domain configured";
  }
  for (std::size_t i = 0; i < trustDomains_.size(); ++i) {
    if (i > 0) {
      text += " or ";
    }
    text += kScheme;
    text += trustDomains_[i];
    text += "/spike/";
    text += roleName(role_);
    text += "[/...]";
  }
  text += ")";
  return text;
}

Status checkOwnIdentity(const SpiffeId& ownId, const RolePolicy& bootstrapPolicy) {
  if (bootstrapPolicy.accepts(ownId)) {
    return okStatus();
  }
  return Status(StatusCode::kPermissionDenied,
                "own SPIFFE ID " + ownId.toString() + " is not " + bootstrapPolicy.describe() +
                    ". Check the SPIRE registration entry of this workload and "
                    "SPIKE_TRUST_ROOT_BOOTSTRAP.");
}

}  // namespace spike_bootstrap::spiffe
