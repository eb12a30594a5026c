// JSON bodies of the keeper contribute call and the Nexus verify call.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/spike/wire.h"

namespace crypto = spike_bootstrap::crypto;
namespace spike = spike_bootstrap::spike;
using spike_bootstrap::StatusCode;

namespace {

std::vector<std::uint8_t> sampleShard() {
  std::vector<std::uint8_t> shard(32);
  for (std::size_t i = 0; i < shard.size(); ++i) {
    shard[i] = static_cast<std::uint8_t>(i * 8 + 3);  // 3, 11, ..., 251
  }
  return shard;
}

std::string asText(const crypto::SecretBytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string contributeBody(const std::vector<std::uint8_t>& shard) {
  auto body = spike::encodeContributeBody(shard);
  REQUIRE(body.ok());
  return asText(*body);
}

// Returns "[v,v,...]" with count copies of value.
std::string repeatedArray(const std::string& value, int count) {
  std::string text = "[";
  for (int i = 0; i < count; ++i) {
    text += (i == 0 ? "" : ",") + value;
  }
  return text + "]";
}

// Returns a contribute body whose shard is 31 sevens followed by last.
std::string shardEndingWith(const std::string& last) {
  std::string array = repeatedArray("7", 31);
  array.insert(array.size() - 1, "," + last);
  return R"({"shard":)" + array + "}";
}

const std::string kHash(64, 'a');

const char* const kVerifyBody =
    R"({"nonce":"JNrbN36tfCTMHZFo","ciphertext":"wxbieE2ctYBzo+utYThCn3jadQFwqFINFJGaxoOG1X6qRZ8u0UnimORqZoWJUUHlEJU3TtrbitEbm7J0CUeS6sKBD84VrX561htVWmkarpI="})";

// Feeds every proper prefix of body to decode and expects each to fail.
template <typename Decode>
void expectTruncationsFail(const std::string& body, Decode decode) {
  for (std::size_t length = 0; length < body.size(); ++length) {
    INFO("prefix length " << length);
    CHECK(decode(std::string_view(body).substr(0, length)).status().code() ==
          StatusCode::kInvalidArgument);
  }
}

}  // namespace

TEST_CASE("contribute body has Go's array form", "[spike][wire]") {
  std::vector<std::uint8_t> shard(32, 0);
  shard[0] = 1;
  shard[31] = 255;
  CHECK(contributeBody(shard) ==
        R"({"shard":[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,255]})");
}

TEST_CASE("contribute body of the longest shard", "[spike][wire]") {
  const std::vector<std::uint8_t> shard(32, 255);
  const std::string body = contributeBody(shard);
  CHECK(body.size() == 139);
  CHECK(body == R"({"shard":)" + repeatedArray("255", 32) + "}");
}

TEST_CASE("contribute encoder rejects bad shards", "[spike][wire]") {
  CHECK(spike::encodeContributeBody(std::vector<std::uint8_t>(31, 1)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(spike::encodeContributeBody(std::vector<std::uint8_t>(33, 1)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(spike::encodeContributeBody({}).status().code() == StatusCode::kInvalidArgument);
  auto zero = spike::encodeContributeBody(std::vector<std::uint8_t>(32, 0));
  CHECK(zero.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(zero.status().message(), Catch::Contains("all zero"));
}

TEST_CASE("contribute body round trip", "[spike][wire]") {
  const std::vector<std::uint8_t> shard = sampleShard();
  auto decoded = spike::decodeContributeBody(contributeBody(shard));
  REQUIRE(decoded.ok());
  CHECK(decoded->equals(shard));
}

TEST_CASE("contribute decoder accepts Go's variations", "[spike][wire]") {
  const std::string array = repeatedArray("7", 32);
  const std::vector<std::uint8_t> sevens(32, 7);
  for (const std::string& body :
       {" {\n \"shard\" : " + array + " }\n", R"({"id":"1","shard":)" + array + "}",
        R"({"shard":)" + array + R"(,"extra":{"nested":[1,{"shard":[]}]}})",
        R"({"before":[[["x"]]],"shard":)" + array + "}"}) {
    INFO("body: " << body);
    auto decoded = spike::decodeContributeBody(body);
    REQUIRE(decoded.ok());
    CHECK(decoded->equals(sevens));
  }
}

TEST_CASE("contribute decoder rejects bad bodies", "[spike][wire]") {
  REQUIRE(spike::decodeContributeBody(shardEndingWith("7")).ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid JSON"},
      {"null", "must be a JSON object"},
      {"[]", "must be a JSON object"},
      {"\"shard\"", "must be a JSON object"},
      {"{}", "\"shard\" is missing"},
      {R"({"shard":null})", "got null"},
      {R"({"shard":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="})", "base64 is not accepted"},
      {R"({"shard":{}})", "got an object"},
      {R"({"shard":7})", "got a number"},
      {R"({"shard":true})", "got a boolean"},
      {R"({"shard":[]})", "has 0 elements"},
      {R"({"shard":)" + repeatedArray("7", 31) + "}", "has 31 elements"},
      {R"({"shard":)" + repeatedArray("7", 33) + "}", "more than 32 elements"},
      {R"({"shard":)" + repeatedArray("0", 32) + "}", "all zero"},
      {shardEndingWith("256"), "over 255"},
      {shardEndingWith("-1"), "negative"},
      {shardEndingWith("1.0"), "non-integer"},
      {shardEndingWith("1e2"), "non-integer"},
      {shardEndingWith("\"7\""), "a string"},
      {shardEndingWith("null"), "got null"},
      {shardEndingWith("[7]"), "an array"},
      {shardEndingWith("99999999999"), "over 255"},
      {R"({"shard":)" + repeatedArray("7", 32) + R"(,"shard":)" + repeatedArray("7", 32) + "}",
       "more than once"},
      {R"({"shard":)" + repeatedArray("7", 32) + "} {}", "invalid JSON"},
      {R"({"shard":)" + repeatedArray("7", 32) + "}x", "invalid JSON"},
      {R"({"shard":)" + repeatedArray("07", 32) + "}", "invalid JSON"},
      {R"({'shard':)" + repeatedArray("7", 32) + "}", "invalid JSON"},
  };
  for (const auto& [body, expected] : cases) {
    INFO("body: " << body);
    auto decoded = spike::decodeContributeBody(body);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(decoded.status().message(), Catch::Contains(expected));
  }
}

TEST_CASE("contribute decoder rejects truncated bodies", "[spike][wire]") {
  expectTruncationsFail(contributeBody(sampleShard()),
                        [](std::string_view body) { return spike::decodeContributeBody(body); });
}

TEST_CASE("contribute decoder rejects NUL and invalid UTF-8", "[spike][wire]") {
  const std::string body = contributeBody(sampleShard());
  CHECK_FALSE(spike::decodeContributeBody(body + std::string(1, '\0') + "junk").ok());
  CHECK_FALSE(spike::decodeContributeBody(std::string(1, '\0') + body).ok());
  const std::string badUtf8 = "{\"x\":\"\xff\xfe\",\"shard\":" + repeatedArray("7", 32) + "}";
  CHECK_FALSE(spike::decodeContributeBody(badUtf8).ok());
}

TEST_CASE("decoders reject oversized bodies", "[spike][wire]") {
  // Valid JSON padded with whitespace past the limit.
  const std::string padding(spike::kMaxBodySize, ' ');
  const std::string contribute = contributeBody(sampleShard());
  REQUIRE(spike::decodeContributeBody(contribute).ok());
  auto big = spike::decodeContributeBody(contribute + padding);
  CHECK(big.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(big.status().message(), Catch::Contains("over the limit"));

  REQUIRE(spike::decodeVerifyRequest(kVerifyBody).ok());
  CHECK_FALSE(spike::decodeVerifyRequest(kVerifyBody + padding).ok());
  const std::string response = spike::encodeVerifyResponse(kHash);
  REQUIRE(spike::decodeVerifyResponse(response).ok());
  CHECK_FALSE(spike::decodeVerifyResponse(response + padding).ok());

  // Exactly at the limit is still accepted.
  const std::string atLimit = response + std::string(spike::kMaxBodySize - response.size(), ' ');
  CHECK(spike::decodeVerifyResponse(atLimit).ok());
}

TEST_CASE("decoders survive deep nesting", "[spike][wire]") {
  const std::string deep = "{\"x\":" + std::string(30000, '[') + std::string(30000, ']') + "}";
  CHECK(spike::decodeContributeBody(deep).status().code() == StatusCode::kInvalidArgument);
  CHECK(spike::decodeVerifyRequest(deep).status().code() == StatusCode::kInvalidArgument);
  CHECK(spike::decodeVerifyResponse(deep).status().code() == StatusCode::kInvalidArgument);
  const std::string unbalanced(60000, '[');
  CHECK_FALSE(spike::decodeContributeBody(unbalanced).ok());
  CHECK_FALSE(spike::decodeVerifyRequest(unbalanced).ok());
}

TEST_CASE("decoders survive random bytes", "[spike][wire]") {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  const std::string alphabet = "{}[]\":,0123456789-+.eE truefalsnl\\shardnoncecipherxt";
  std::uniform_int_distribution<std::size_t> pickChar(0, alphabet.size() - 1);
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const int size = length(random);
    for (int i = 0; i < size; ++i) {
      body.push_back(round % 2 == 0 ? static_cast<char>(byte(random)) : alphabet[pickChar(random)]);
    }
    // Nothing to check but that the decoders return; ASan and UBSan watch the rest.
    (void)spike::decodeContributeBody(body);
    (void)spike::decodeVerifyRequest(body);
    (void)spike::decodeVerifyResponse(body);
  }
  SUCCEED();
}

TEST_CASE("verify request matches Go's encoding", "[spike][wire]") {
  crypto::SealedProbe probe;
  for (std::size_t i = 0; i < probe.nonce.size(); ++i) {
    probe.nonce[i] = static_cast<std::uint8_t>(0xf0 + i);
  }
  probe.ciphertext = {0xfb, 0xff, 0xbf, 0x00};
  CHECK(spike::encodeVerifyRequest(probe) ==
        R"({"nonce":"8PHy8/T19vf4+fr7","ciphertext":"+/+/AA=="})");
}

TEST_CASE("verify request round trip", "[spike][wire]") {
  auto request = spike::decodeVerifyRequest(kVerifyBody);
  REQUIRE(request.ok());
  crypto::SealedProbe probe;
  probe.nonce = request->nonce;
  probe.ciphertext = request->ciphertext;
  CHECK(probe.ciphertext.size() == 80);
  CHECK(spike::encodeVerifyRequest(probe) == kVerifyBody);
}

TEST_CASE("verify request decoder rejects bad bodies", "[spike][wire]") {
  const std::string nonce = R"("nonce":"JNrbN36tfCTMHZFo")";
  const std::string ciphertext = R"("ciphertext":"AAAAAAAAAAAAAAAAAAAAAA==")";  // 16 bytes
  REQUIRE(spike::decodeVerifyRequest("{" + nonce + "," + ciphertext + "}").ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid JSON"},
      {"[]", "must be a JSON object"},
      {"{" + ciphertext + "}", "\"nonce\" is missing"},
      {"{" + nonce + "}", "\"ciphertext\" is missing"},
      {R"({"nonce":null,)" + ciphertext + "}", "must be a string"},
      {R"({"nonce":[1,2,3],)" + ciphertext + "}", "must be a string"},
      {"{" + nonce + R"(,"ciphertext":42})", "must be a string"},
      {R"({"nonce":"JNrbN36tfCTMHZF",)" + ciphertext + "}", "invalid base64"},
      {R"({"nonce":"JNrbN36t fCTMHZFo",)" + ciphertext + "}", "invalid base64"},
      {R"({"nonce":"JNrbN36tfCTMHZFo\n",)" + ciphertext + "}", "invalid base64"},
      {R"({"nonce":"JNrbN36tfCTM",)" + ciphertext + "}", "nonce must be 12 bytes, got 9"},
      {R"({"nonce":"JNrbN36tfCTMHZFoAAAA",)" + ciphertext + "}", "nonce must be 12 bytes"},
      {"{" + nonce + R"(,"ciphertext":"AAAAAAAAAAAAAAAAAAAA"})", "at least the 16-byte tag"},
      {"{" + nonce + R"(,"ciphertext":""})", "at least the 16-byte tag"},
      {"{" + nonce + "," + nonce + "," + ciphertext + "}", "appears more than once"},
      {"{" + nonce + "," + ciphertext + "}]", "invalid JSON"},
  };
  for (const auto& [body, expected] : cases) {
    INFO("body: " << body);
    auto decoded = spike::decodeVerifyRequest(body);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(decoded.status().message(), Catch::Contains(expected));
  }
  expectTruncationsFail(kVerifyBody,
                        [](std::string_view body) { return spike::decodeVerifyRequest(body); });
}

TEST_CASE("verify response round trip", "[spike][wire]") {
  const std::string hash = "937d9346fae93cb6943dcb2ed95d67e80e812c2fd2cefe3f326c9d2f6c1f15d9";
  const std::string body = spike::encodeVerifyResponse(hash);
  CHECK(body == R"({"hash":")" + hash + R"("})");
  auto decoded = spike::decodeVerifyResponse(body);
  REQUIRE(decoded.ok());
  CHECK(*decoded == hash);
}

TEST_CASE("verify response accepts success codes", "[spike][wire]") {
  for (const std::string& body :
       {R"({"hash":")" + kHash + R"(","err":""})", R"({"err":"success","hash":")" + kHash + "\"}",
        R"({"hash":")" + kHash + R"(","other":[1,2]})"}) {
    INFO("body: " << body);
    auto decoded = spike::decodeVerifyResponse(body);
    REQUIRE(decoded.ok());
    CHECK(*decoded == kHash);
  }
}

TEST_CASE("verify response decoder rejects bad bodies", "[spike][wire]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid JSON"},
      {"\"" + kHash + "\"", "must be a JSON object"},
      {"{}", "\"hash\" is missing"},
      {R"({"hash":null})", "must be a string"},
      {R"({"hash":12})", "must be a string"},
      {R"({"hash":""})", "64 lower-case hex digits"},
      {R"({"hash":")" + std::string(63, 'a') + "\"}", "64 lower-case hex digits"},
      {R"({"hash":")" + std::string(65, 'a') + "\"}", "64 lower-case hex digits"},
      {R"({"hash":")" + std::string(64, 'A') + "\"}", "64 lower-case hex digits"},
      {R"({"hash":")" + std::string(63, 'a') + "g\"}", "64 lower-case hex digits"},
      {R"({"hash":")" + kHash + R"(","hash":")" + kHash + "\"}", "appears more than once"},
      {R"({"hash":"","err":"crypto_decryption_failed"})",
       "error code \"crypto_decryption_failed\""},
      {R"({"hash":")" + kHash + R"(","err":"internal_error"})", "error code"},
      {R"({"hash":")" + kHash + R"(","err":5})", "\"err\" must be a string"},
  };
  for (const auto& [body, expected] : cases) {
    INFO("body: " << body);
    auto decoded = spike::decodeVerifyResponse(body);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(decoded.status().message(), Catch::Contains(expected));
  }
  expectTruncationsFail(spike::encodeVerifyResponse(kHash),
                        [](std::string_view body) { return spike::decodeVerifyResponse(body); });
}
