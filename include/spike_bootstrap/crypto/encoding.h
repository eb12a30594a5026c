// Hex and standard base64 (RFC 4648, section 4, with padding) for wire formats,
// digests and test vectors. These functions are not meant for secrets, because
// their results are ordinary strings and vectors that are never wiped.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::crypto {

// Returns bytes as lower-case hex, two digits a byte.
std::string hexEncode(std::span<const std::uint8_t> bytes);

// Decodes hex digits of either case. Errors: InvalidArgument on an odd length
// or a character that is not a hex digit.
Result<std::vector<std::uint8_t>> hexDecode(std::string_view text);

// Returns bytes as standard base64 with '=' padding and no line breaks, the
// way Go's encoding/json writes a []byte.
std::string base64Encode(std::span<const std::uint8_t> bytes);

// Decodes standard base64 with padding. Errors: InvalidArgument when the length
// is not a multiple of 4, a character is outside the alphabet, or '=' appears
// anywhere but in the last two places.
Result<std::vector<std::uint8_t>> base64Decode(std::string_view text);

}  // namespace spike_bootstrap::crypto
