// JSON bodies exchanged with SPIKE Keepers and SPIKE Nexus, encoded and decoded
// exactly as SPIKE's Go structs are by encoding/json.
//
//   keeper  POST /v1/store/contribute  {"shard":[b0,...,b31]}
//   nexus   POST /v1/bootstrap/verify  {"nonce":"<base64>","ciphertext":"<base64>"}
//           200 response               {"hash":"<hex sha256 of the plaintext>"}
//
// Both directions are here: the client side for the bootstrap run, the server
// side for the fake keeper and fake Nexus in the tests. Decoders reject bodies
// over kMaxBodySize, bodies that are not JSON and wrongly typed members with
// InvalidArgument, and they skip members they do not know, as Go does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::spike {

// Largest body a decoder accepts. The real bodies are a few hundred bytes.
inline constexpr std::size_t kMaxBodySize = 64 * 1024;

// Size of the shard in a contribute body: one P-256 scalar.
inline constexpr std::size_t kShardSize = 32;

// Builds the keeper contribute body for one share. Go encodes the [32]byte
// shard as an array of 32 integers; a keeper rejects base64 text. The result
// carries the share, so it lives in a wiped buffer. Errors: InvalidArgument
// when shard is not 32 bytes or is all zero (a keeper rejects that too).
Result<crypto::SecretBytes> encodeContributeBody(std::span<const std::uint8_t> shard);

// Decodes a contribute body into the 32-byte shard, checking what a keeper
// checks. Errors: InvalidArgument when "shard" is missing, appears twice, is
// not an array of exactly 32 integers in 0..255 (a base64 string included),
// or is all zero.
Result<crypto::SecretBytes> decodeContributeBody(std::string_view body);

// The verify request as the fake Nexus reads it.
struct VerifyRequest {
  std::array<std::uint8_t, crypto::kProbeNonceSize> nonce{};
  std::vector<std::uint8_t> ciphertext;  // ciphertext followed by the 16-byte tag
};

// Builds the Nexus verify body from a sealed probe, both fields as standard
// base64 with padding.
std::string encodeVerifyRequest(const crypto::SealedProbe& probe);

// Decodes a verify body. Errors: InvalidArgument when "nonce" or "ciphertext"
// is missing, repeated, not a string or not valid base64, when the nonce is
// not 12 bytes, or when the ciphertext is shorter than the 16-byte tag.
Result<VerifyRequest> decodeVerifyRequest(std::string_view body);

// Builds the verify response body {"hash":"<hash>"}.
std::string encodeVerifyResponse(std::string_view hash);

// Decodes a verify response and returns the hash. SPIKE versions differ in
// the optional "err" member: absent, "" or "success" mean success.
// Errors: InvalidArgument when "err" names another code, or when "hash" is
// missing, repeated, or not 64 lower-case hex digits.
Result<std::string> decodeVerifyResponse(std::string_view body);

}  // namespace spike_bootstrap::spike
