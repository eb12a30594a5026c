// Conversions between 32-byte big-endian scalars and BIGNUMs, and the constant N.
#include "spike_bootstrap/crypto/scalar_field.h"

#include <cstdlib>
#include <string>

namespace spike_bootstrap::crypto {
namespace {

// The order of the P-256 base point, from FIPS 186-4 appendix D.1.2.3.
constexpr const char* kP256OrderHex =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

BignumPtr parseOrder() {
  BIGNUM* order = nullptr;
  if (BN_hex2bn(&order, kP256OrderHex) == 0) {
    // Only an allocation failure at start-up gets here; nothing can run without N.
    std::abort();
  }
  return BignumPtr(order);
}

}  // namespace

const BIGNUM& p256GroupOrder() {
  static const BignumPtr order = parseOrder();
  return *order;
}

Result<BignumPtr> scalarFromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kScalarSize) {
    return Status(StatusCode::kInvalidArgument, "scalar must be " + std::to_string(kScalarSize) +
                                                    " bytes, got " + std::to_string(bytes.size()));
  }
  BignumPtr scalar(BN_secure_new());
  if (scalar == nullptr ||
      BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), scalar.get()) == nullptr) {
    return Status(StatusCode::kInternal, "read scalar: " + drainOpensslErrors());
  }
  return scalar;
}

Result<SecretBytes> scalarToBytes(const BIGNUM& scalar) {
  if (!isReducedScalar(scalar)) {
    return Status(StatusCode::kInvalidArgument,
                  "write scalar: value is negative or not below the P-256 group order");
  }
  SecretBytes bytes(kScalarSize);
  if (BN_bn2binpad(&scalar, bytes.data(), static_cast<int>(bytes.size())) < 0) {
    return Status(StatusCode::kInternal, "write scalar: " + drainOpensslErrors());
  }
  return bytes;
}

bool isReducedScalar(const BIGNUM& scalar) {
  return !BN_is_negative(&scalar) && BN_cmp(&scalar, &p256GroupOrder()) < 0;
}

bool isNonZeroReducedScalar(const BIGNUM& scalar) {
  return !BN_is_zero(&scalar) && isReducedScalar(scalar);
}

}  // namespace spike_bootstrap::crypto
