// The verification probe: proof that Nexus rebuilt the same root key.
//
// Bootstrap seals 64 lower-case hex characters (32 random bytes) with
// AES-256-GCM under the root key, with a random 12-byte nonce and no
// additional data, and sends nonce and ciphertext (tag appended). Nexus opens
// it with its own root key and returns the hex SHA-256 of the plaintext. A
// matching hash means both hold the same key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::crypto {

inline constexpr std::size_t kProbeKeySize = 32;
inline constexpr std::size_t kProbeNonceSize = 12;
inline constexpr std::size_t kProbeTagSize = 16;
inline constexpr std::size_t kProbePlaintextSize = 64;

// A sealed probe, ready for the verify request. Nothing here is secret, but
// the plaintext it came from stays out of logs: only the hash is kept.
struct SealedProbe {
  std::array<std::uint8_t, kProbeNonceSize> nonce{};
  std::vector<std::uint8_t> ciphertext;  // ciphertext followed by the 16-byte tag
  std::string expectedHash;              // lower-case hex SHA-256 of the plaintext
};

// Seals a fresh probe: the plaintext and the nonce come from OpenSSL's CSPRNG.
// Errors: InvalidArgument when rootKey is not 32 bytes, Internal when the
// CSPRNG or the cipher fails.
Result<SealedProbe> sealProbe(const SecretBytes& rootKey);

// Seals the given plaintext under rootKey with the given nonce (test vectors
// use this). Errors: InvalidArgument when rootKey is not 32 bytes or nonce is
// not 12 bytes, Internal when the cipher fails.
Result<SealedProbe> sealProbeWith(const SecretBytes& rootKey, std::span<const std::uint8_t> nonce,
                                  std::span<const std::uint8_t> plaintext);

// Opens a sealed probe the way Nexus does and returns the plaintext.
// Errors: InvalidArgument when rootKey is not 32 bytes, nonce is not 12 bytes,
// ciphertext is shorter than the tag, or the tag does not verify (wrong key or
// altered bytes); Internal when the cipher fails.
Result<SecretBytes> openProbe(const SecretBytes& rootKey, std::span<const std::uint8_t> nonce,
                              std::span<const std::uint8_t> ciphertext);

// Returns the lower-case hex SHA-256 of bytes, the hash Nexus returns.
// Errors: Internal when the digest fails.
Result<std::string> sha256Hex(std::span<const std::uint8_t> bytes);

}  // namespace spike_bootstrap::crypto
