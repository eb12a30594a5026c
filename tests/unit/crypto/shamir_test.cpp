// Properties of the root key, the scalar sampler and the Shamir split and
// recovery, beyond the fixed vectors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "spike_bootstrap/crypto/encoding.h"
#include "spike_bootstrap/crypto/scalar_field.h"
#include "spike_bootstrap/crypto/scalar_sampler.h"
#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/crypto/shamir.h"

namespace crypto = spike_bootstrap::crypto;
using spike_bootstrap::StatusCode;

namespace {

const char* const kOrderHex = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

std::vector<std::uint8_t> fromHex(const char* hex) {
  auto bytes = crypto::hexDecode(hex);
  REQUIRE(bytes.ok());
  return *bytes;
}

crypto::SecretBytes secretFromHex(const char* hex) {
  return crypto::SecretBytes::copyOf(fromHex(hex));
}

crypto::SecretBytes newRootKey() {
  auto key = crypto::generateRootKey();
  REQUIRE(key.ok());
  return std::move(*key);
}

std::vector<crypto::KeeperShare> split(const crypto::SecretBytes& key, int threshold, int shares) {
  auto result = crypto::splitRootKey(key, threshold, shares);
  REQUIRE(result.ok());
  return std::move(*result);
}

crypto::KeeperShare copyShare(const crypto::KeeperShare& share) {
  return {share.id, share.value.clone()};
}

// Returns the shares at the given positions, copied.
std::vector<crypto::KeeperShare> pick(const std::vector<crypto::KeeperShare>& shares,
                                      const std::vector<int>& positions) {
  std::vector<crypto::KeeperShare> picked;
  for (int position : positions) {
    picked.push_back(copyShare(shares[static_cast<std::size_t>(position)]));
  }
  return picked;
}

// Calls visit with every subset of {0..n-1} of the given size, in order.
template <typename Visit>
void forEachSubset(int n, int size, Visit visit) {
  std::vector<bool> chosen(static_cast<std::size_t>(n), false);
  std::fill(chosen.begin(), chosen.begin() + size, true);
  do {
    std::vector<int> subset;
    for (int i = 0; i < n; ++i) {
      if (chosen[static_cast<std::size_t>(i)]) {
        subset.push_back(i);
      }
    }
    visit(subset);
  } while (std::prev_permutation(chosen.begin(), chosen.end()));
}

}  // namespace

TEST_CASE("group order constant is P-256 order", "[crypto]") {
  auto order = crypto::scalarToBytes(crypto::p256GroupOrder());
  CHECK_FALSE(order.ok());  // N itself is out of range for a scalar
  auto nMinusOne = crypto::scalarFromBytes(
      fromHex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550"));
  REQUIRE(nMinusOne.ok());
  CHECK(crypto::isNonZeroReducedScalar(**nMinusOne));
  CHECK(BN_add_word(nMinusOne->get(), 1) == 1);
  CHECK(BN_cmp(nMinusOne->get(), &crypto::p256GroupOrder()) == 0);
}

TEST_CASE("scalar conversions check size and range", "[crypto]") {
  CHECK(crypto::scalarFromBytes(std::vector<std::uint8_t>(31, 1)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(crypto::scalarFromBytes(std::vector<std::uint8_t>(33, 1)).status().code() ==
        StatusCode::kInvalidArgument);

  auto zero = crypto::scalarFromBytes(std::vector<std::uint8_t>(32, 0));
  REQUIRE(zero.ok());
  CHECK(crypto::isReducedScalar(**zero));
  CHECK_FALSE(crypto::isNonZeroReducedScalar(**zero));
  auto zeroBytes = crypto::scalarToBytes(**zero);
  REQUIRE(zeroBytes.ok());
  CHECK(zeroBytes->size() == 32);
  CHECK(crypto::hexEncode(zeroBytes->span()) == std::string(64, '0'));

  auto order = crypto::scalarFromBytes(fromHex(kOrderHex));
  REQUIRE(order.ok());
  CHECK_FALSE(crypto::isReducedScalar(**order));

  spike_bootstrap::BignumPtr negative(BN_new());
  REQUIRE(BN_set_word(negative.get(), 5) == 1);
  BN_set_negative(negative.get(), 1);
  CHECK_FALSE(crypto::isReducedScalar(*negative));
  CHECK(crypto::scalarToBytes(*negative).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("chain stream matches chained SHA-256", "[crypto]") {
  // SHA-256("abc") and SHA-256 of that digest (FIPS 180-2 example, then chained).
  const std::vector<std::uint8_t> seed = {'a', 'b', 'c'};
  crypto::Sha256ChainStream stream(seed);
  std::vector<std::uint8_t> bytes(70);
  // Odd read sizes cross block boundaries in the middle of a read.
  std::size_t offset = 0;
  for (std::size_t size : {5, 30, 0, 29, 6}) {
    CHECK(stream.read(std::span(bytes).subspan(offset, size)) == size);
    offset += size;
  }
  REQUIRE(offset == bytes.size());
  CHECK(crypto::hexEncode(std::span(bytes).first(32)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  crypto::Sha256ChainStream again(seed);
  std::vector<std::uint8_t> whole(70);
  CHECK(again.read(whole) == whole.size());
  CHECK(whole == bytes);
}

TEST_CASE("fixed source hands out its bytes once", "[crypto]") {
  const std::vector<std::uint8_t> data = {1, 2, 3, 4, 5};
  crypto::FixedByteSource source(data);
  std::vector<std::uint8_t> out(3);
  CHECK(source.read(out) == 3);
  CHECK(out == std::vector<std::uint8_t>{1, 2, 3});
  CHECK(source.remaining() == 2);
  CHECK(source.read(out) == 2);
  CHECK(source.remaining() == 0);
  CHECK(source.read(out) == 0);
}

TEST_CASE("sampler rejects values at or above N", "[crypto]") {
  // N, then all ones, then 5: the first two are discarded.
  std::vector<std::uint8_t> stream = fromHex(kOrderHex);
  const std::vector<std::uint8_t> ones(32, 0xff);
  stream.insert(stream.end(), ones.begin(), ones.end());
  std::vector<std::uint8_t> five(32, 0);
  five.back() = 5;
  stream.insert(stream.end(), five.begin(), five.end());
  stream.push_back(0xaa);

  crypto::FixedByteSource source(stream);
  auto drawn = crypto::sampleScalar(source);
  REQUIRE(drawn.ok());
  CHECK(drawn->equals(five));
  CHECK(source.remaining() == 1);

  auto ended = crypto::sampleScalar(source);
  REQUIRE_FALSE(ended.ok());
  CHECK(ended.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(ended.status().message(), Catch::Contains("ended after 1 of 32 bytes"));
}

TEST_CASE("root key from CSPRNG is a valid scalar", "[crypto]") {
  crypto::initSecureHeap();
  const crypto::SecretBytes first = newRootKey();
  const crypto::SecretBytes second = newRootKey();
  REQUIRE(first.size() == 32);
  REQUIRE(second.size() == 32);
  CHECK_FALSE(first.equals(second.span()));
  for (const crypto::SecretBytes* key : {&first, &second}) {
    auto value = crypto::scalarFromBytes(key->span());
    REQUIRE(value.ok());
    CHECK(crypto::isNonZeroReducedScalar(**value));
  }
}

TEST_CASE("root key redraws zero and N", "[crypto]") {
  std::vector<std::uint8_t> entropy(32, 0);  // zero
  const std::vector<std::uint8_t> order = fromHex(kOrderHex);
  entropy.insert(entropy.end(), order.begin(), order.end());
  std::vector<std::uint8_t> one(32, 0);
  one.back() = 1;
  entropy.insert(entropy.end(), one.begin(), one.end());

  crypto::FixedByteSource source(entropy);
  auto key = crypto::generateRootKey(source);
  REQUIRE(key.ok());
  CHECK(key->equals(one));
  CHECK(source.remaining() == 0);
}

TEST_CASE("root key fails when entropy ends", "[crypto]") {
  const std::vector<std::uint8_t> entropy(40, 0);
  crypto::FixedByteSource source(entropy);
  auto key = crypto::generateRootKey(source);
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("root key gives up after 16 bad draws", "[crypto]") {
  const std::vector<std::uint8_t> entropy(32 * 17, 0xff);
  crypto::FixedByteSource source(entropy);
  auto key = crypto::generateRootKey(source);
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == StatusCode::kInternal);
  CHECK(source.remaining() == 32);
}

TEST_CASE("split rejects bad arguments", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  CHECK(crypto::splitRootKey(key, 0, 3).status().code() == StatusCode::kInvalidArgument);
  CHECK(crypto::splitRootKey(key, -1, 3).status().code() == StatusCode::kInvalidArgument);
  CHECK(crypto::splitRootKey(key, 4, 3).status().code() == StatusCode::kInvalidArgument);
  CHECK(crypto::splitRootKey(key, 1, 0).status().code() == StatusCode::kInvalidArgument);

  const crypto::SecretBytes shortKey(31);
  CHECK(crypto::splitRootKey(shortKey, 2, 3).status().code() == StatusCode::kInvalidArgument);
  const crypto::SecretBytes emptyKey;
  CHECK(crypto::splitRootKey(emptyKey, 2, 3).status().code() == StatusCode::kInvalidArgument);
  const crypto::SecretBytes zeroKey(32);
  CHECK(crypto::splitRootKey(zeroKey, 2, 3).status().code() == StatusCode::kInvalidArgument);
  const crypto::SecretBytes orderKey = secretFromHex(kOrderHex);
  auto refused = crypto::splitRootKey(orderKey, 2, 3);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.status().message(), Catch::Contains("not below the P-256 group order"));
}

TEST_CASE("split is deterministic", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  const auto first = split(key, 3, 5);
  const auto second = split(key, 3, 5);
  REQUIRE(first.size() == 5);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i].id == static_cast<int>(i) + 1);
    CHECK(first[i].value.size() == 32);
    CHECK(first[i].value.equals(second[i].value.span()));
  }
}

TEST_CASE("threshold 1 gives every keeper the key", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  for (const crypto::KeeperShare& share : split(key, 1, 4)) {
    CHECK(share.value.equals(key.span()));
  }
}

TEST_CASE("every t-subset of 5 shares recovers", "[crypto]") {
  crypto::initSecureHeap();
  for (int round = 0; round < 3; ++round) {
    const crypto::SecretBytes key = newRootKey();
    for (int threshold = 1; threshold <= 5; ++threshold) {
      const auto shares = split(key, threshold, 5);
      forEachSubset(5, threshold, [&](const std::vector<int>& subset) {
        INFO("threshold " << threshold << ", first position " << subset.front());
        // Both orders of the subset recover the key.
        std::vector<int> reversed(subset.rbegin(), subset.rend());
        for (const auto& positions : {subset, reversed}) {
          const auto picked = pick(shares, positions);
          auto recovered = crypto::recoverRootKey(picked, threshold);
          REQUIRE(recovered.ok());
          CHECK(recovered->equals(key.span()));
        }
      });
    }
  }
}

TEST_CASE("t-1 shares do not give the key", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  for (int threshold = 2; threshold <= 5; ++threshold) {
    const auto shares = split(key, threshold, 5);
    forEachSubset(5, threshold - 1, [&](const std::vector<int>& subset) {
      const auto picked = pick(shares, subset);
      auto refused = crypto::recoverRootKey(picked, threshold);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.status().code() == StatusCode::kInvalidArgument);

      // Interpolating through too few points gives some other value.
      auto wrong = crypto::recoverRootKey(picked, threshold - 1);
      REQUIRE(wrong.ok());
      CHECK_FALSE(wrong->equals(key.span()));
    });
  }
}

TEST_CASE("large random splits recover", "[crypto]") {
  crypto::initSecureHeap();
  std::mt19937 random(20240611);
  for (auto [threshold, count] :
       {std::pair{2, 3}, std::pair{67, 100}, std::pair{500, 1000}, std::pair{1000, 1000}}) {
    INFO("threshold " << threshold << ", shares " << count);
    const crypto::SecretBytes key = newRootKey();
    const auto shares = split(key, threshold, count);
    REQUIRE(shares.size() == static_cast<std::size_t>(count));

    std::vector<int> positions(static_cast<std::size_t>(count));
    std::iota(positions.begin(), positions.end(), 0);
    std::shuffle(positions.begin(), positions.end(), random);
    positions.resize(static_cast<std::size_t>(threshold));
    auto recovered = crypto::recoverRootKey(pick(shares, positions), threshold);
    REQUIRE(recovered.ok());
    CHECK(recovered->equals(key.span()));
  }
}

TEST_CASE("recover uses the first t shares", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  const auto shares = split(key, 3, 5);
  auto picked = pick(shares, {0, 1, 2, 3});
  picked[3].value.data()[0] ^= 0x01;  // an extra share past the threshold is not used
  auto recovered = crypto::recoverRootKey(picked, 3);
  REQUIRE(recovered.ok());
  CHECK(recovered->equals(key.span()));
}

TEST_CASE("recover rejects bad shares", "[crypto]") {
  const crypto::SecretBytes key = newRootKey();
  const auto shares = split(key, 2, 3);

  SECTION("threshold below 1") {
    CHECK(crypto::recoverRootKey(pick(shares, {0, 1}), 0).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SECTION("no shares") {
    CHECK(crypto::recoverRootKey({}, 1).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("duplicate id") {
    auto picked = pick(shares, {0, 0});
    auto result = crypto::recoverRootKey(picked, 2);
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(result.status().message(), Catch::Contains("more than once"));
  }
  SECTION("duplicate id past the threshold") {
    auto picked = pick(shares, {0, 1, 1});
    CHECK(crypto::recoverRootKey(picked, 2).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("id zero or negative") {
    for (int id : {0, -1}) {
      auto picked = pick(shares, {0, 1});
      picked[1].id = id;
      auto result = crypto::recoverRootKey(picked, 2);
      CHECK(result.status().code() == StatusCode::kInvalidArgument);
      CHECK_THAT(result.status().message(), Catch::Contains("id must be at least 1"));
    }
  }
  SECTION("value not below N") {
    auto picked = pick(shares, {0, 1});
    picked[1].value = secretFromHex(kOrderHex);
    auto result = crypto::recoverRootKey(picked, 2);
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(result.status().message(), Catch::Contains("not below the P-256 group order"));
  }
  SECTION("value of wrong size") {
    for (std::size_t size : {0, 31, 33}) {
      auto picked = pick(shares, {0, 1});
      picked[0].value = crypto::SecretBytes(size);
      CHECK(crypto::recoverRootKey(picked, 2).status().code() == StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE("recover accepts large share ids", "[crypto]") {
  // Points of f(x) = 7 + 3x, small enough to write down without reduction.
  auto point = [](int id) {
    std::vector<std::uint8_t> value(32, 0);
    std::uint64_t y = 7 + 3 * static_cast<std::uint64_t>(id);
    for (std::size_t i = 0; i < 8; ++i) {
      value[31 - i] = static_cast<std::uint8_t>(y >> (8 * i));
    }
    return crypto::KeeperShare{id, crypto::SecretBytes::copyOf(value)};
  };
  std::vector<std::uint8_t> seven(32, 0);
  seven.back() = 7;

  for (auto [first, second] :
       {std::pair{2147483647, 2147483646}, std::pair{1, 2147483647}, std::pair{2147483647, 1}}) {
    std::vector<crypto::KeeperShare> shares;
    shares.push_back(point(first));
    shares.push_back(point(second));
    auto recovered = crypto::recoverRootKey(shares, 2);
    REQUIRE(recovered.ok());
    CHECK(recovered->equals(seven));
  }
}
