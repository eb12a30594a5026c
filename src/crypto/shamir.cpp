// Root key generation and SPIKE's Shamir split and recovery mod the P-256 order.
//
// All big-number arithmetic is OpenSSL's BIGNUM. Secret values (seed,
// coefficients, share values, the Horner accumulator) use BN_secure_new and a
// BN_CTX_secure_new context, and BignumPtr clears them when freed.
//
// NOTE: BN_mul_word, BN_nnmod and BN_mod_inverse are not constant-time. The
// split and recovery run once per process on inputs no caller can choose or
// time repeatedly, which is why this code accepts that.
#include "spike_bootstrap/crypto/shamir.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <utility>

#include <openssl/bn.h>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/crypto/scalar_field.h"

namespace spike_bootstrap::crypto {
namespace {

constexpr int kScalarBits = 256;

// Horner's rule with a small x: acc*x + c grows by at most bits(x) + 1 bits per
// step, so the accumulator is reduced mod N only when it could pass this size
// instead of after every step. On a 2.6 GHz AMD EPYC core with OpenSSL 3.0, a
// 1000-share, threshold-500 split took about 57 ms of CPU time with a reduction
// per step and takes about 11 ms this way (bench/shamir_bench.cpp).
constexpr int kLazyReductionBits = 512;

// An honest CSPRNG draws 0 or a value >= N with odds near 2^-32 per draw.
constexpr int kMaxSeedDraws = 16;

const logging::Logger& logger() {
  static const logging::Logger instance("crypto");
  return instance;
}

Status opensslFailure(std::string_view step) {
  return Status(StatusCode::kInternal, std::string(step) + ": " + drainOpensslErrors());
}

Result<BignumPtr> newSecureBignum(std::string_view step) {
  BignumPtr number(BN_secure_new());
  if (number == nullptr) {
    return opensslFailure(step);
  }
  return number;
}

// Reads the root key as the constant term s. Like CIRCL, rejects 0 and values >= N.
Result<BignumPtr> readRootKey(const SecretBytes& rootKey) {
  if (rootKey.size() != kScalarSize) {
    return Status(StatusCode::kInvalidArgument, "root key must be " + std::to_string(kScalarSize) +
                                                    " bytes, got " +
                                                    std::to_string(rootKey.size()));
  }
  Result<BignumPtr> secret = scalarFromBytes(rootKey.span());
  if (!secret.ok()) {
    return secret.status();
  }
  if (!isNonZeroReducedScalar(**secret)) {
    return Status(StatusCode::kInvalidArgument,
                  "root key is zero or not below the P-256 group order; draw a new one");
  }
  return secret;
}

// Returns s, c1, ..., c(t-1): the constant term followed by the coefficients
// drawn from SPIKE's SHA-256 chain over the root key.
Result<std::vector<BignumPtr>> buildPolynomial(const SecretBytes& rootKey, int threshold) {
  Result<BignumPtr> secret = readRootKey(rootKey);
  if (!secret.ok()) {
    return secret.status();
  }
  std::vector<BignumPtr> coefficients;
  coefficients.reserve(static_cast<std::size_t>(threshold));
  coefficients.push_back(std::move(*secret));

  Sha256ChainStream stream(rootKey.span());
  for (int k = 1; k < threshold; ++k) {
    Result<SecretBytes> bytes = sampleScalar(stream);
    if (!bytes.ok()) {
      return bytes.status().withContext("draw coefficient " + std::to_string(k));
    }
    Result<BignumPtr> coefficient = scalarFromBytes(bytes->span());
    if (!coefficient.ok()) {
      return coefficient.status();
    }
    coefficients.push_back(std::move(*coefficient));
  }
  return coefficients;
}

// Sets result = f(x) mod N by Horner's rule, reducing lazily (see kLazyReductionBits).
Status evaluatePolynomial(const std::vector<BignumPtr>& coefficients, BN_ULONG x, BIGNUM* result,
                          BN_CTX* ctx) {
  const BIGNUM& order = p256GroupOrder();
  const int growthPerStep = BN_num_bits_word(x) + 1;
  const int stepsPerReduction = std::max(1, (kLazyReductionBits - kScalarBits) / growthPerStep);

  if (BN_copy(result, coefficients.back().get()) == nullptr) {
    return opensslFailure("evaluate share");
  }
  int steps = 0;
  for (std::size_t k = coefficients.size() - 1; k-- > 0;) {
    if (BN_mul_word(result, x) != 1 || BN_uadd(result, result, coefficients[k].get()) != 1) {
      return opensslFailure("evaluate share");
    }
    if (++steps == stepsPerReduction) {
      if (BN_nnmod(result, result, &order, ctx) != 1) {
        return opensslFailure("evaluate share");
      }
      steps = 0;
    }
  }
  if (BN_nnmod(result, result, &order, ctx) != 1) {
    return opensslFailure("evaluate share");
  }
  return okStatus();
}

Status checkShares(std::span<const KeeperShare> shares, int threshold) {
  if (threshold < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "threshold must be at least 1, got " + std::to_string(threshold));
  }
  if (shares.size() < static_cast<std::size_t>(threshold)) {
    return Status(StatusCode::kInvalidArgument, "too few shares: got " +
                                                    std::to_string(shares.size()) +
                                                    ", threshold is " + std::to_string(threshold));
  }
  std::unordered_set<int> seen;
  for (const KeeperShare& share : shares) {
    const std::string label = "share " + std::to_string(share.id);
    if (share.id < 1) {
      return Status(StatusCode::kInvalidArgument, label + ": id must be at least 1");
    }
    if (!seen.insert(share.id).second) {
      return Status(StatusCode::kInvalidArgument, label + ": id appears more than once");
    }
    if (share.value.size() != kScalarSize) {
      return Status(StatusCode::kInvalidArgument, label + ": value must be " +
                                                      std::to_string(kScalarSize) + " bytes, got " +
                                                      std::to_string(share.value.size()));
    }
    Result<BignumPtr> value = scalarFromBytes(share.value.span());
    if (!value.ok()) {
      return value.status().withContext(label);
    }
    if (!isReducedScalar(**value)) {
      return Status(StatusCode::kInvalidArgument,
                    label + ": value is not below the P-256 group order");
    }
  }
  return okStatus();
}

// Multiplies product by word, reducing mod N once it passes kLazyReductionBits.
bool multiplyByWord(BIGNUM* product, BN_ULONG word, BN_CTX* ctx) {
  if (BN_mul_word(product, word) != 1) {
    return false;
  }
  return BN_num_bits(product) <= kLazyReductionBits ||
         BN_nnmod(product, product, &p256GroupOrder(), ctx) == 1;
}

// Returns the Lagrange basis polynomial of ids[j] evaluated at 0:
// the product over m != j of ids[m] / (ids[m] - ids[j]) mod N.
Result<BignumPtr> lagrangeWeightAtZero(std::span<const int> ids, std::size_t j, BN_CTX* ctx) {
  const BIGNUM& order = p256GroupOrder();
  BignumPtr numerator(BN_new());
  BignumPtr denominator(BN_new());
  if (numerator == nullptr || denominator == nullptr || BN_one(numerator.get()) != 1 ||
      BN_one(denominator.get()) != 1) {
    return opensslFailure("recover: Lagrange weight");
  }
  bool negative = false;
  for (std::size_t m = 0; m < ids.size(); ++m) {
    if (m == j) {
      continue;
    }
    // Ids are distinct positive ints, so the difference is non-zero and fits a word.
    const std::int64_t difference = std::int64_t{ids[m]} - ids[j];
    negative = negative != (difference < 0);
    if (!multiplyByWord(numerator.get(), static_cast<BN_ULONG>(ids[m]), ctx) ||
        !multiplyByWord(denominator.get(), static_cast<BN_ULONG>(std::llabs(difference)), ctx)) {
      return opensslFailure("recover: Lagrange weight");
    }
  }
  if (BN_nnmod(numerator.get(), numerator.get(), &order, ctx) != 1 ||
      BN_nnmod(denominator.get(), denominator.get(), &order, ctx) != 1) {
    return opensslFailure("recover: Lagrange weight");
  }
  // A negative product -d is N - d mod N.
  if (negative && BN_sub(denominator.get(), &order, denominator.get()) != 1) {
    return opensslFailure("recover: Lagrange weight");
  }
  // N is prime and every factor is below N, so the denominator is invertible.
  if (BN_mod_inverse(denominator.get(), denominator.get(), &order, ctx) == nullptr ||
      BN_mod_mul(numerator.get(), numerator.get(), denominator.get(), &order, ctx) != 1) {
    return opensslFailure("recover: Lagrange weight");
  }
  return numerator;
}

}  // namespace

Result<SecretBytes> generateRootKey(ByteSource& entropy) {
  for (int draw = 1; draw <= kMaxSeedDraws; ++draw) {
    SecretBytes seed(kScalarSize);
    const std::size_t count = entropy.read(seed.span());
    if (count < seed.size()) {
      return Status(StatusCode::kFailedPrecondition,
                    "generate root key: entropy source ended after " + std::to_string(count) +
                        " of " + std::to_string(seed.size()) + " bytes");
    }
    Result<BignumPtr> value = scalarFromBytes(seed.span());
    if (!value.ok()) {
      return value.status().withContext("generate root key");
    }
    if (isNonZeroReducedScalar(**value)) {
      return seed;
    }
    logger().warn("seed is zero or not below the P-256 group order; drawing again",
                  {{"draw", draw}});
  }
  return Status(StatusCode::kInternal,
                "generate root key: " + std::to_string(kMaxSeedDraws) +
                    " draws in a row were zero or not below the P-256 group order; "
                    "the random number generator is broken");
}

Result<SecretBytes> generateRootKey() {
  CsprngByteSource csprng;
  Result<SecretBytes> rootKey = generateRootKey(csprng);
  if (!rootKey.ok() && rootKey.status().code() == StatusCode::kFailedPrecondition) {
    return Status(StatusCode::kInternal,
                  "generate root key: RAND_priv_bytes failed: " + drainOpensslErrors());
  }
  return rootKey;
}

Result<std::vector<KeeperShare>> splitRootKey(const SecretBytes& rootKey, int threshold,
                                              int shares) {
  if (shares < 1 || threshold < 1 || threshold > shares) {
    return Status(StatusCode::kInvalidArgument,
                  "split root key: threshold must be in 1.." + std::to_string(shares) +
                      " and shares at least 1, got threshold " + std::to_string(threshold) +
                      " and shares " + std::to_string(shares));
  }
  Result<std::vector<BignumPtr>> coefficients = buildPolynomial(rootKey, threshold);
  if (!coefficients.ok()) {
    return coefficients.status().withContext("split root key");
  }
  BnCtxPtr ctx(BN_CTX_secure_new());
  Result<BignumPtr> value = newSecureBignum("split root key");
  if (ctx == nullptr || !value.ok()) {
    return opensslFailure("split root key");
  }

  std::vector<KeeperShare> result;
  result.reserve(static_cast<std::size_t>(shares));
  for (int id = 1; id <= shares; ++id) {
    Status evaluated =
        evaluatePolynomial(*coefficients, static_cast<BN_ULONG>(id), value->get(), ctx.get());
    if (!evaluated.ok()) {
      return evaluated.withContext("split root key");
    }
    Result<SecretBytes> bytes = scalarToBytes(**value);
    if (!bytes.ok()) {
      return bytes.status().withContext("split root key");
    }
    result.push_back(KeeperShare{id, std::move(*bytes)});
  }
  return result;
}

Result<SecretBytes> recoverRootKey(std::span<const KeeperShare> shares, int threshold) {
  if (Status checked = checkShares(shares, threshold); !checked.ok()) {
    return checked.withContext("recover root key");
  }
  // CIRCL's Recover also interpolates through the first threshold shares only.
  const std::span<const KeeperShare> used = shares.first(static_cast<std::size_t>(threshold));
  std::vector<int> ids;
  ids.reserve(used.size());
  for (const KeeperShare& share : used) {
    ids.push_back(share.id);
  }

  const BIGNUM& order = p256GroupOrder();
  BnCtxPtr ctx(BN_CTX_secure_new());
  Result<BignumPtr> sum = newSecureBignum("recover root key");
  Result<BignumPtr> term = newSecureBignum("recover root key");
  if (ctx == nullptr || !sum.ok() || !term.ok()) {
    return opensslFailure("recover root key");
  }
  BN_zero(sum->get());
  for (std::size_t j = 0; j < used.size(); ++j) {
    Result<BignumPtr> weight = lagrangeWeightAtZero(ids, j, ctx.get());
    Result<BignumPtr> value = scalarFromBytes(used[j].value.span());
    if (!weight.ok() || !value.ok()) {
      return (weight.ok() ? value.status() : weight.status()).withContext("recover root key");
    }
    if (BN_mod_mul(term->get(), value->get(), weight->get(), &order, ctx.get()) != 1 ||
        BN_mod_add_quick(sum->get(), sum->get(), term->get(), &order) != 1) {
      return opensslFailure("recover root key");
    }
  }
  return scalarToBytes(**sum);
}

}  // namespace spike_bootstrap::crypto
