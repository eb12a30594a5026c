// Hex and base64 encoding.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/encoding.h"

namespace crypto = spike_bootstrap::crypto;
using spike_bootstrap::StatusCode;

namespace {

std::vector<std::uint8_t> bytesOf(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

}  // namespace

TEST_CASE("hex round trip", "[crypto]") {
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  CHECK(crypto::hexEncode(bytes) == "00017f80abff");
  auto decoded = crypto::hexDecode("00017F80abFF");
  REQUIRE(decoded.ok());
  CHECK(*decoded == bytes);
  CHECK(crypto::hexEncode({}).empty());
  REQUIRE(crypto::hexDecode("").ok());
}

TEST_CASE("hex rejects bad text", "[crypto]") {
  for (const char* text : {"0", "abc", "0g", "g0", " 00", "00 ", "0x00"}) {
    INFO("text: " << text);
    CHECK(crypto::hexDecode(text).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("base64 matches RFC 4648 examples", "[crypto]") {
  // The test vectors of RFC 4648, section 10.
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : examples) {
    INFO("plain: " << plain);
    CHECK(crypto::base64Encode(bytesOf(plain)) == encoded);
    auto decoded = crypto::base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytesOf(plain));
  }
}

TEST_CASE("base64 uses the standard alphabet", "[crypto]") {
  const std::vector<std::uint8_t> bytes = {0xfb, 0xff, 0xbf};
  CHECK(crypto::base64Encode(bytes) == "+/+/");
  auto decoded = crypto::base64Decode("+/+/");
  REQUIRE(decoded.ok());
  CHECK(*decoded == bytes);
}

TEST_CASE("base64 rejects bad text", "[crypto]") {
  for (const char* text : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm 9", "Zm9v\n", "-_-_",
                           "Zm=v", "Zg=a", "Zm9v\t", "=Zm9"}) {
    INFO("text: " << text);
    CHECK(crypto::base64Decode(text).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("base64 round trip of every length", "[crypto]") {
  std::vector<std::uint8_t> bytes;
  for (int length = 0; length < 70; ++length) {
    auto decoded = crypto::base64Decode(crypto::base64Encode(bytes));
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
    bytes.push_back(static_cast<std::uint8_t>(length * 37 + 11));
  }
}
