// Checks and text helpers behind loadConfig(). Internal to the config module.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::config {

// Returns value in double quotes with quotes, backslashes and control
// characters escaped, so an error stays on one line. Values over 200 bytes
// are cut and their length is appended.
std::string quote(std::string_view value);

// Returns InvalidArgument with the message
// "invalid NAME "value": reason. Expected expected."
Status invalidValue(std::string_view name, std::string_view value, std::string_view reason,
                    std::string_view expected);

// Returns InvalidArgument with the message as given.
Status invalidConfig(std::string message);

// Trims ASCII whitespace, as Go's strings.TrimSpace does for ASCII input.
std::string_view trim(std::string_view text);

// Splits text at every ',' and keeps empty parts, so "a,,b" gives three.
std::vector<std::string_view> splitCommas(std::string_view text);

std::string lowerCase(std::string_view text);

// Joins items with ',' and no spaces.
std::string joinList(const std::vector<std::string>& items);

// Parses an integer as Go's strconv.Atoi does: an optional sign, then decimal
// digits, nothing else. Returns nullopt for other text. Values beyond long
// long saturate, so callers report them as out of range.
std::optional<long long> parseInteger(std::string_view text);

// Returns why name is not a SPIFFE trust domain name, or nullopt when it is.
// Trust domain names are limited to lowercase letters, digits, '.', '-' and
// '_' (go-spiffe's spiffeid.TrustDomainFromString enforces the same), and the
// host part of a URI is at most 255 bytes (SPIFFE-ID section 2.3).
std::optional<std::string> trustDomainProblem(std::string_view name);

// True when name is a DNS subdomain name, as ConfigMap names must be
// (Kubernetes "Object Names and IDs"). Such a name has at most 253
// characters in labels separated by '.'. Each label contains lowercase
// letters, digits and '-', and starts and ends with a letter or digit.
bool isDnsSubdomainName(std::string_view name);

}  // namespace spike_bootstrap::config
