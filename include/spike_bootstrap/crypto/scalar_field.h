// The scalar field of the NIST P-256 group: integers modulo the group order N.
//
// SPIKE's Shamir split (cloudflare/circl's secretsharing over group.P256) does
// all arithmetic mod N, and a scalar travels as 32 bytes big-endian. This file
// contains N and the conversions between those bytes and OpenSSL BIGNUMs. The
// polynomial arithmetic lives in shamir.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <openssl/bn.h>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::crypto {

// Size of an encoded scalar: 32 bytes, big-endian.
inline constexpr std::size_t kScalarSize = 32;

// Returns N, the order of the P-256 group (FIPS 186-4, D.1.2.3), as a shared
// read-only BIGNUM. Safe to call from any thread.
const BIGNUM& p256GroupOrder();

// Reads 32 big-endian bytes into a new BIGNUM from the secure heap, without a
// range check. Errors: InvalidArgument when bytes is not 32 bytes long,
// Internal when OpenSSL cannot allocate.
Result<BignumPtr> scalarFromBytes(std::span<const std::uint8_t> bytes);

// Writes scalar as 32 bytes big-endian into a new SecretBytes.
// Errors: InvalidArgument when scalar is negative or not below N.
Result<SecretBytes> scalarToBytes(const BIGNUM& scalar);

// Returns true when 0 <= scalar < N.
bool isReducedScalar(const BIGNUM& scalar);

// Returns true when 0 < scalar < N, the range CIRCL accepts for a secret.
bool isNonZeroReducedScalar(const BIGNUM& scalar);

}  // namespace spike_bootstrap::crypto
