// Parsing and joining of the https URLs that name keepers, Nexus and the
// Kubernetes API server. The grammar is the subset of RFC 3986 that those
// peers need: scheme, host (name, IPv4 or bracketed IPv6), port and path.
#include "spike_bootstrap/net/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace spike_bootstrap::net {
namespace {

constexpr std::string_view kScheme = "https://";

Status invalidUrl(std::string_view text, std::string_view reason) {
  std::string message = "invalid URL \"";
  message += text;
  message += "\": ";
  message += reason;
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool isIpv4Literal(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool isIpv6Literal(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A DNS name as resolvers accept it: letters, digits, '-', '_' and '.'.
// Underscores appear in some in-cluster service names, so they pass too.
bool isHostNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool isHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// RFC 3986 pchar plus '/': unreserved, sub-delims, ':', '@' and percent-encoding.
bool isPathCharacter(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) {
    return true;
  }
  return std::string_view("-._~!$&'()*+,;=:@/%").find(c) != std::string_view::npos;
}

Status parseHost(std::string_view text, std::string_view hostText, Url& url) {
  if (hostText.empty()) {
    return invalidUrl(text, "missing host");
  }
  if (hostText.front() == '[') {
    if (hostText.back() != ']') {
      return invalidUrl(text, "IPv6 address has no closing ']'");
    }
    url.host = std::string(hostText.substr(1, hostText.size() - 2));
    if (url.host.find('%') != std::string::npos) {
      return invalidUrl(text, "IPv6 zone identifiers are not supported");
    }
    if (!isIpv6Literal(url.host)) {
      return invalidUrl(text, "invalid IPv6 address in brackets");
    }
    return okStatus();
  }

  if (hostText.find(':') != std::string_view::npos) {
    return invalidUrl(text, "an IPv6 address must be written in brackets, such as [::1]");
  }
  if (!std::all_of(hostText.begin(), hostText.end(), isHostNameCharacter)) {
    return invalidUrl(text, "host contains a character other than letters, digits, '-', '_', '.'");
  }
  url.host = std::string(hostText);
  std::transform(url.host.begin(), url.host.end(), url.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  // "1.2.3" or "300.1.1.1" would otherwise reach the resolver as a name.
  bool numeric = std::all_of(url.host.begin(), url.host.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
  if (numeric && !isIpv4Literal(url.host)) {
    return invalidUrl(text, "invalid IPv4 address");
  }
  return okStatus();
}

Status parsePort(std::string_view text, std::string_view portText, Url& url) {
  if (portText.empty()) {
    return invalidUrl(text, "empty port after ':'");
  }
  if (!std::all_of(portText.begin(), portText.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return invalidUrl(text, "port must be a number from 1 to 65535");
  }
  unsigned long port = 0;
  auto [end, error] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (error != std::errc() || end != portText.data() + portText.size() || port < 1 ||
      port > 65535) {
    return invalidUrl(text, "port must be a number from 1 to 65535");
  }
  url.port = static_cast<std::uint16_t>(port);
  return okStatus();
}

Status parsePath(std::string_view text, std::string_view pathText, Url& url) {
  for (std::size_t i = 0; i < pathText.size(); ++i) {
    char c = pathText[i];
    if (!isPathCharacter(c)) {
      return invalidUrl(text, "path contains a character that must be percent-encoded");
    }
    if (c == '%' && (i + 2 >= pathText.size() || !isHexDigit(pathText[i + 1]) ||
                     !isHexDigit(pathText[i + 2]))) {
      return invalidUrl(text, "path contains '%' not followed by two hex digits");
    }
  }

  // Dot segments would make the joined path depend on server-side resolution.
  std::size_t start = 0;
  while (start <= pathText.size()) {
    std::size_t end = pathText.find('/', start);
    if (end == std::string_view::npos) {
      end = pathText.size();
    }
    std::string_view segment = pathText.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return invalidUrl(text, "path contains a '.' or '..' segment");
    }
    start = end + 1;
  }

  while (!pathText.empty() && pathText.back() == '/') {
    pathText.remove_suffix(1);
  }
  url.path = std::string(pathText);
  return okStatus();
}

}  // namespace

bool Url::ipv6Host() const { return host.find(':') != std::string::npos; }

bool Url::ipHost() const { return ipv6Host() || isIpv4Literal(host); }

std::string Url::authority() const {
  std::string text = ipv6Host() ? "[" + host + "]" : host;
  if (port != 443) {
    text += ':';
    text += std::to_string(port);
  }
  return text;
}

std::string Url::toString() const {
  std::string text(kScheme);
  text += authority();
  text += path;
  return text;
}

Result<Url> parseHttpsUrl(std::string_view text) {
  for (char c : text) {
    if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ') {
      return invalidUrl(text, "contains a space or control character");
    }
  }
  if (!startsWithNoCase(text, kScheme)) {
    if (text.find("://") == std::string_view::npos) {
      return invalidUrl(text, "expected https://host[:port][/path]");
    }
    return invalidUrl(text, "scheme must be https");
  }
  if (text.find('?') != std::string_view::npos) {
    return invalidUrl(text, "a query ('?') is not allowed");
  }
  if (text.find('#') != std::string_view::npos) {
    return invalidUrl(text, "a fragment ('#') is not allowed");
  }

  std::string_view rest = text.substr(kScheme.size());
  std::size_t pathStart = rest.find('/');
  std::string_view authority = rest.substr(0, pathStart);
  std::string_view path =
      pathStart == std::string_view::npos ? std::string_view() : rest.substr(pathStart);
  if (authority.find('@') != std::string_view::npos) {
    return invalidUrl(text, "user information ('user@') is not allowed");
  }

  // The port separator is the last ':' after any closing bracket of an IPv6 host.
  std::size_t bracketEnd = authority.rfind(']');
  std::size_t colon = authority.rfind(':');
  bool hasPort = false;
  if (colon != std::string_view::npos) {
    if (bracketEnd == std::string_view::npos) {
      // Without brackets, a second ':' means an IPv6 address, not a port.
      hasPort = authority.find(':') == colon;
    } else {
      hasPort = colon > bracketEnd;
    }
  }
  if (bracketEnd != std::string_view::npos && !hasPort && bracketEnd + 1 != authority.size()) {
    return invalidUrl(text, "unexpected text after the IPv6 address");
  }

  Url url;
  std::string_view hostText = hasPort ? authority.substr(0, colon) : authority;
  if (Status status = parseHost(text, hostText, url); !status.ok()) {
    return status;
  }
  if (hasPort) {
    if (Status status = parsePort(text, authority.substr(colon + 1), url); !status.ok()) {
      return status;
    }
  }
  if (Status status = parsePath(text, path, url); !status.ok()) {
    return status;
  }
  return url;
}

Url joinPath(const Url& base, std::string_view path) {
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  Url joined = base;
  if (!path.empty()) {
    joined.path += '/';
    joined.path += path;
  }
  return joined;
}

}  // namespace spike_bootstrap::net
