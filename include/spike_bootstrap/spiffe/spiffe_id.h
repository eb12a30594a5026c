// SPIFFE IDs and the SPIKE roles they identify.
//
// A SPIFFE ID is spiffe://<trust domain>/<path> (SPIFFE ID specification,
// github.com/spiffe/spiffe, standards/SPIFFE-ID.md). SPIKE gives each role a
// base path, /spike/bootstrap, /spike/keeper or /spike/nexus, and a list of
// trust domains it may come from. An ID matches a role when it equals
// spiffe://<td>/spike/<role>, or starts with that followed by '/', for any
// trust domain in the role's list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::spiffe {

enum class Role { kBootstrap, kKeeper, kNexus };

// Returns "bootstrap", "keeper" or "nexus".
std::string_view roleName(Role role);

struct SpiffeId {
  std::string trustDomain;  // such as "example.org"
  std::string path;         // "" or "/segment[/segment...]"

  // Returns spiffe://<trustDomain><path>.
  std::string toString() const;
  bool operator==(const SpiffeId&) const = default;
};

// Parses a SPIFFE ID by the rules of the SPIFFE ID specification: scheme
// "spiffe", a trust domain of [a-z0-9.-_], no user info, port, query or
// fragment, and path segments of [a-zA-Z0-9.-_] that are neither empty, "."
// nor "..". Returns InvalidArgument naming the ID and the broken rule.
Result<SpiffeId> parseSpiffeId(std::string_view text);

// Parses a trust domain name ("example.org") or trust domain ID
// ("spiffe://example.org"). Returns InvalidArgument when it is neither.
Result<std::string> parseTrustDomain(std::string_view text);

// The IDs one role may have: its base path in any of the listed trust domains.
class RolePolicy {
 public:
  RolePolicy(Role role, std::vector<std::string> trustDomains);

  Role role() const { return role_; }
  const std::vector<std::string>& trustDomains() const { return trustDomains_; }

  // True when id is spiffe://<td>/spike/<role> or below it, for a listed td.
  bool accepts(const SpiffeId& id) const;

  // Describes the accepted IDs for messages, such as
  // "a keeper ID (spiffe://a.org/spike/keeper[/...] or spiffe://b.org/spike/keeper[/...])".
  std::string describe() const;

 private:
  Role role_;
  std::vector<std::string> trustDomains_;
};

// Checks our own SVID's ID against the bootstrap role. Returns
// PermissionDenied naming the ID we got and the IDs accepted, because a
// fixed registration entry can make a later run succeed.
Status checkOwnIdentity(const SpiffeId& ownId, const RolePolicy& bootstrapPolicy);

}  // namespace spike_bootstrap::spiffe
