// The root key and SPIKE's Shamir split and recovery over the P-256 scalar field.
//
// The split must match SPIKE byte for byte, because Nexus later recomputes the
// shares from the root key and sends them to the keepers itself:
//   - the root key is a seed s with 0 < s < N, as 32 bytes big-endian;
//   - coefficients c1..c(t-1) come from sampleScalar() over a
//     Sha256ChainStream seeded with the root key, in that order;
//   - share i, for i = 1..n, is f(i) = s + c1*i + ... + c(t-1)*i^(t-1) mod N.
// Any t shares give s back by Lagrange interpolation at 0.
#pragma once

#include <span>
#include <vector>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/scalar_sampler.h"
#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::crypto {

// One share of the root key. Keeper i (1-based, in SPIKE_NEXUS_KEEPER_PEERS
// order) receives the share whose id is i.
struct KeeperShare {
  int id = 0;
  SecretBytes value;  // f(id) as 32 bytes big-endian
};

// Draws a new root key from OpenSSL's CSPRNG. SPIKE's library rejects a seed of
// 0 or >= N, so such a draw is discarded and another one made.
// Errors: Internal when the CSPRNG fails or keeps returning unusable values.
Result<SecretBytes> generateRootKey();

// Same as generateRootKey(), drawing 32-byte candidates from entropy.
// Errors: FailedPrecondition when entropy ends, Internal when no usable value
// comes in 16 draws (an honest CSPRNG fails that way with odds near 2^-512).
Result<SecretBytes> generateRootKey(ByteSource& entropy);

// Splits rootKey into shares with ids 1..shares so that any threshold of them
// recover it. The result is deterministic, as in SPIKE.
// Errors: InvalidArgument when rootKey is not 32 bytes, is 0 or is not below
// N, or when threshold is not in 1..shares; Internal on an OpenSSL failure.
Result<std::vector<KeeperShare>> splitRootKey(const SecretBytes& rootKey, int threshold,
                                              int shares);

// Recovers the root key from the first threshold entries of shares. Every
// entry is checked first. Errors: InvalidArgument when threshold < 1, when
// there are fewer than threshold shares, or when an entry has an id below 1,
// an id seen before, or a value that is not 32 bytes below N; Internal on an
// OpenSSL failure.
Result<SecretBytes> recoverRootKey(std::span<const KeeperShare> shares, int threshold);

}  // namespace spike_bootstrap::crypto
