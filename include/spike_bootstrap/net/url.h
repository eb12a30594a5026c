// HTTPS URLs as SPIKE configures them: https://host[:port][/path].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::net {

struct Url {
  std::string host;        // without IPv6 brackets
  std::uint16_t port = 443;
  std::string path;        // base path without a trailing '/', "" for the root

  // True when host is an IPv6 literal (it needs brackets in URLs and headers).
  bool ipv6Host() const;
  // True when host is an IPv4 or IPv6 literal. Such hosts get no SNI, and the
  // server certificate must carry them as an IP address SAN.
  bool ipHost() const;
  // host[:port] with brackets for IPv6 and the port left out when it is 443,
  // as sent in the Host header.
  std::string authority() const;
  // https://authority/path
  std::string toString() const;
};

// Parses an https URL with a host, an optional port (1-65535) and an optional
// path. The host is lower-cased and trailing '/' characters are removed from the
// path, so "https://K1/k1/" and "https://k1/k1" give the same Url. Rejects other
// schemes, user info, queries, fragments, unbracketed IPv6 addresses, IPv6 zone
// identifiers, '.' and '..' path segments and characters that need
// percent-encoding, with an InvalidArgument naming what was wrong.
Result<Url> parseHttpsUrl(std::string_view text);

// Appends path to the URL's base path: base "/k1/" or "/k1" with path
// "/v1/store/contribute" gives "/k1/v1/store/contribute".
Url joinPath(const Url& base, std::string_view path);

}  // namespace spike_bootstrap::net
