// SecretBytes: ownership, wiping, copies and comparison.
#include <catch2/catch.hpp>

#include <cstdint>
#include <utility>
#include <vector>

#include "spike_bootstrap/crypto/secret_bytes.h"

using spike_bootstrap::crypto::SecretBytes;

namespace {

const std::vector<std::uint8_t> kSample = {1, 2, 3, 4, 5, 6, 7, 8};

}  // namespace

TEST_CASE("secure heap init is idempotent", "[crypto]") {
  const auto first = spike_bootstrap::crypto::initSecureHeap();
  CHECK(spike_bootstrap::crypto::initSecureHeap() == first);
}

TEST_CASE("secret bytes start zeroed", "[crypto]") {
  SecretBytes secret(16);
  REQUIRE(secret.size() == 16);
  CHECK_FALSE(secret.empty());
  CHECK(secret.equals(std::vector<std::uint8_t>(16, 0)));
}

TEST_CASE("secret bytes of size zero", "[crypto]") {
  SecretBytes sized(0);
  SecretBytes defaulted;
  for (SecretBytes* secret : {&sized, &defaulted}) {
    CHECK(secret->empty());
    CHECK(secret->size() == 0);
    CHECK(secret->data() == nullptr);
    CHECK(secret->span().empty());
    CHECK(secret->equals({}));
    CHECK_FALSE(secret->equals(kSample));
    secret->wipe();
    CHECK(secret->empty());
    CHECK(secret->clone().empty());
  }
  CHECK(SecretBytes::copyOf({}).empty());
}

TEST_CASE("secret bytes copy in and compare", "[crypto]") {
  const SecretBytes secret = SecretBytes::copyOf(kSample);
  REQUIRE(secret.size() == kSample.size());
  CHECK(secret.equals(kSample));

  std::vector<std::uint8_t> changed = kSample;
  changed.back() ^= 0x80;
  CHECK_FALSE(secret.equals(changed));
  CHECK_FALSE(secret.equals(std::span(kSample).first(7)));
}

TEST_CASE("secret bytes move empties the source", "[crypto]") {
  SecretBytes source = SecretBytes::copyOf(kSample);
  const std::uint8_t* buffer = source.data();

  SecretBytes moved(std::move(source));
  CHECK(moved.data() == buffer);
  CHECK(moved.equals(kSample));
  CHECK(source.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(source.data() == nullptr);

  SecretBytes assigned = SecretBytes::copyOf(std::vector<std::uint8_t>{9, 9});
  assigned = std::move(moved);
  CHECK(assigned.equals(kSample));
  CHECK(moved.empty());  // NOLINT(bugprone-use-after-move)

  assigned = std::move(assigned);  // self-move keeps the contents
  CHECK(assigned.equals(kSample));
}

TEST_CASE("secret bytes clone is independent", "[crypto]") {
  SecretBytes original = SecretBytes::copyOf(kSample);
  SecretBytes copy = original.clone();
  REQUIRE(copy.equals(kSample));
  CHECK(copy.data() != original.data());

  original.data()[0] = 0xee;
  CHECK(copy.equals(kSample));
  CHECK_FALSE(original.equals(kSample));
}

TEST_CASE("secret bytes wipe releases the bytes", "[crypto]") {
  SecretBytes secret = SecretBytes::copyOf(kSample);
  secret.wipe();
  CHECK(secret.empty());
  CHECK(secret.data() == nullptr);
  secret.wipe();  // a second wipe does nothing
  CHECK(secret.empty());
}
