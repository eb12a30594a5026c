// The AES-256-GCM verification probe, sealed and opened.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/shamir.h"

namespace crypto = spike_bootstrap::crypto;
using spike_bootstrap::StatusCode;

namespace {

crypto::SecretBytes newKey() {
  auto key = crypto::generateRootKey();
  REQUIRE(key.ok());
  return std::move(*key);
}

bool isLowerHex(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

TEST_CASE("sealed probe opens to 64 hex characters", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  auto probe = crypto::sealProbe(key);
  REQUIRE(probe.ok());
  CHECK(probe->ciphertext.size() == crypto::kProbePlaintextSize + crypto::kProbeTagSize);
  CHECK(probe->expectedHash.size() == 64);
  CHECK(isLowerHex(probe->expectedHash));

  auto opened = crypto::openProbe(key, probe->nonce, probe->ciphertext);
  REQUIRE(opened.ok());
  REQUIRE(opened->size() == crypto::kProbePlaintextSize);
  const std::string plaintext(reinterpret_cast<const char*>(opened->data()), opened->size());
  CHECK(isLowerHex(plaintext));
  auto hash = crypto::sha256Hex(opened->span());
  REQUIRE(hash.ok());
  CHECK(*hash == probe->expectedHash);
}

TEST_CASE("probes differ in nonce and plaintext", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  auto first = crypto::sealProbe(key);
  auto second = crypto::sealProbe(key);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->nonce != second->nonce);
  CHECK(first->expectedHash != second->expectedHash);
}

TEST_CASE("probe does not open under another key", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  const crypto::SecretBytes other = newKey();
  auto probe = crypto::sealProbe(key);
  REQUIRE(probe.ok());
  auto opened = crypto::openProbe(other, probe->nonce, probe->ciphertext);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(opened.status().message(), Catch::Contains("tag does not verify"));
}

TEST_CASE("probe does not open when altered", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  auto probe = crypto::sealProbe(key);
  REQUIRE(probe.ok());
  // Flip one bit in the body, in the tag, and in the nonce.
  for (std::size_t position : {std::size_t{0}, probe->ciphertext.size() - 1}) {
    std::vector<std::uint8_t> altered = probe->ciphertext;
    altered[position] ^= 0x01;
    CHECK_FALSE(crypto::openProbe(key, probe->nonce, altered).ok());
  }
  auto nonce = probe->nonce;
  nonce[0] ^= 0x01;
  CHECK_FALSE(crypto::openProbe(key, nonce, probe->ciphertext).ok());
  // Dropping the last byte shortens the tag.
  std::vector<std::uint8_t> truncated(probe->ciphertext.begin(), probe->ciphertext.end() - 1);
  CHECK_FALSE(crypto::openProbe(key, probe->nonce, truncated).ok());
}

TEST_CASE("probe checks sizes", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  const std::vector<std::uint8_t> nonce(12, 1);
  const std::vector<std::uint8_t> plaintext(64, 'a');

  const crypto::SecretBytes shortKey(16);
  CHECK(crypto::sealProbe(shortKey).status().code() == StatusCode::kInvalidArgument);
  CHECK(crypto::sealProbeWith(shortKey, nonce, plaintext).status().code() ==
        StatusCode::kInvalidArgument);
  for (std::size_t size : {0, 11, 13, 16}) {
    const std::vector<std::uint8_t> badNonce(size, 1);
    CHECK(crypto::sealProbeWith(key, badNonce, plaintext).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(crypto::openProbe(key, badNonce, std::vector<std::uint8_t>(80, 0)).status().code() ==
          StatusCode::kInvalidArgument);
  }
  CHECK(crypto::openProbe(key, nonce, std::vector<std::uint8_t>(15, 0)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(crypto::openProbe(shortKey, nonce, std::vector<std::uint8_t>(80, 0)).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("empty plaintext seals to a bare tag", "[crypto]") {
  const crypto::SecretBytes key = newKey();
  const std::vector<std::uint8_t> nonce(12, 7);
  auto sealed = crypto::sealProbeWith(key, nonce, {});
  REQUIRE(sealed.ok());
  CHECK(sealed->ciphertext.size() == crypto::kProbeTagSize);
  auto opened = crypto::openProbe(key, nonce, sealed->ciphertext);
  REQUIRE(opened.ok());
  CHECK(opened->empty());
  // The SHA-256 digest of the empty string.
  CHECK(sealed->expectedHash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
