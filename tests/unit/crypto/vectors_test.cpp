// Runs every case of the SPIKE Shamir vectors (made with cloudflare/circl
// v1.6.3 and SPIKE's SHA-256 reader) against the crypto and wire code.
//
// The file is tests/data/shamir-p256.json unless SPIKE_BOOTSTRAP_VECTORS
// names another file of the same format.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "spike_bootstrap/crypto/encoding.h"
#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/scalar_sampler.h"
#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/spike/wire.h"

namespace crypto = spike_bootstrap::crypto;
namespace spike = spike_bootstrap::spike;

namespace {

std::string vectorsPath() {
  const char* overridePath = std::getenv("SPIKE_BOOTSTRAP_VECTORS");
  if (overridePath != nullptr && *overridePath != '\0') {
    return overridePath;
  }
  return std::string(SPIKE_BOOTSTRAP_TEST_DATA_DIR) + "/shamir-p256.json";
}

// Loads the vectors once per test program.
const rapidjson::Document& vectors() {
  static const rapidjson::Document document = [] {
    const std::string path = vectorsPath();
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      FAIL("cannot open vectors file " << path);
    }
    std::stringstream text;
    text << file.rdbuf();
    rapidjson::Document parsed;
    parsed.Parse(text.str().c_str());
    if (parsed.HasParseError() || !parsed.IsObject()) {
      FAIL("vectors file " << path << " is not a JSON object");
    }
    return parsed;
  }();
  return document;
}

const rapidjson::Value& cases(const char* name) {
  const rapidjson::Document& document = vectors();
  REQUIRE(document.HasMember(name));
  REQUIRE(document[name].IsArray());
  return document[name];
}

std::string text(const rapidjson::Value& value) {
  REQUIRE(value.IsString());
  return std::string(value.GetString(), value.GetStringLength());
}

std::vector<std::uint8_t> hexBytes(const rapidjson::Value& value) {
  auto bytes = crypto::hexDecode(text(value));
  REQUIRE(bytes.ok());
  return *bytes;
}

crypto::SecretBytes secretFromHex(const rapidjson::Value& value) {
  return crypto::SecretBytes::copyOf(hexBytes(value));
}

std::string hexOf(const crypto::SecretBytes& bytes) { return crypto::hexEncode(bytes.span()); }

std::string asText(const crypto::SecretBytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

TEST_CASE("vectors file declares the P-256 order", "[crypto][vectors]") {
  CHECK(text(vectors()["scalar_field_order"]) ==
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  CHECK(cases("split_cases").Size() > 0);
  CHECK(cases("sample_cases").Size() > 0);
  CHECK(cases("recover_cases").Size() > 0);
  CHECK(cases("seal_cases").Size() > 0);
}

TEST_CASE("vectors split cases", "[crypto][vectors]") {
  crypto::initSecureHeap();
  const rapidjson::Value& all = cases("split_cases");
  for (rapidjson::SizeType index = 0; index < all.Size(); ++index) {
    const rapidjson::Value& entry = all[index];
    const int shares = entry["shares"].GetInt();
    const int threshold = entry["threshold"].GetInt();
    INFO("split case " << index << ": seed " << text(entry["seed"]) << ", t=" << threshold
                       << ", n=" << shares);
    const crypto::SecretBytes seed = secretFromHex(entry["seed"]);

    auto split = crypto::splitRootKey(seed, threshold, shares);
    if (!entry["accepted"].GetBool()) {
      REQUIRE_FALSE(split.ok());
      CHECK(split.status().code() == spike_bootstrap::StatusCode::kInvalidArgument);
      continue;
    }
    REQUIRE(split.ok());
    CHECK(text(entry["root_key"]) == hexOf(seed));

    // The coefficients are the sampler's draws from SPIKE's stream, in order.
    const rapidjson::Value emptyArray(rapidjson::kArrayType);
    const rapidjson::Value& coefficients =
        entry.HasMember("coefficients") ? entry["coefficients"] : emptyArray;
    REQUIRE(coefficients.Size() == static_cast<rapidjson::SizeType>(threshold - 1));
    crypto::Sha256ChainStream stream(seed.span());
    for (rapidjson::SizeType k = 0; k < coefficients.Size(); ++k) {
      auto drawn = crypto::sampleScalar(stream);
      REQUIRE(drawn.ok());
      CHECK(hexOf(*drawn) == text(coefficients[k]));
    }

    const rapidjson::Value& values = entry["share_values"];
    REQUIRE(values.Size() == static_cast<rapidjson::SizeType>(shares));
    REQUIRE(split->size() == static_cast<std::size_t>(shares));
    for (rapidjson::SizeType i = 0; i < values.Size(); ++i) {
      const crypto::KeeperShare& share = (*split)[i];
      CHECK(share.id == values[i]["id"].GetInt());
      CHECK(hexOf(share.value) == text(values[i]["value"]));
    }

    auto body = spike::encodeContributeBody((*split)[0].value.span());
    REQUIRE(body.ok());
    CHECK(asText(*body) == text(entry["contribute_body_for_first_share"]));
  }
}

TEST_CASE("vectors sample cases", "[crypto][vectors]") {
  const rapidjson::Value& all = cases("sample_cases");
  for (rapidjson::SizeType index = 0; index < all.Size(); ++index) {
    const rapidjson::Value& entry = all[index];
    INFO("sample case " << index << ": stream " << text(entry["stream"]));
    const std::vector<std::uint8_t> stream = hexBytes(entry["stream"]);
    crypto::FixedByteSource source(stream);

    auto drawn = crypto::sampleScalar(source);
    if (entry["scalar"].IsNull()) {
      REQUIRE_FALSE(drawn.ok());
      CHECK(drawn.status().code() == spike_bootstrap::StatusCode::kFailedPrecondition);
    } else {
      REQUIRE(drawn.ok());
      CHECK(hexOf(*drawn) == text(entry["scalar"]));
    }
    if (entry.HasMember("unread")) {
      CHECK(source.remaining() == entry["unread"].GetUint());
    }
  }
}

TEST_CASE("vectors recover cases", "[crypto][vectors]") {
  crypto::initSecureHeap();
  const rapidjson::Value& all = cases("recover_cases");
  for (rapidjson::SizeType index = 0; index < all.Size(); ++index) {
    const rapidjson::Value& entry = all[index];
    const int threshold = entry["threshold"].GetInt();
    INFO("recover case " << index << ": t=" << threshold << ", " << entry["shares"].Size()
                         << " shares");
    std::vector<crypto::KeeperShare> shares;
    for (const rapidjson::Value& share : entry["shares"].GetArray()) {
      shares.push_back({share["id"].GetInt(), secretFromHex(share["value"])});
    }

    auto recovered = crypto::recoverRootKey(shares, threshold);
    if (entry.HasMember("error")) {
      REQUIRE_FALSE(recovered.ok());
      CHECK(recovered.status().code() == spike_bootstrap::StatusCode::kInvalidArgument);
      CHECK_THAT(recovered.status().message(), Catch::Contains("too few shares"));
    } else {
      REQUIRE(recovered.ok());
      CHECK(hexOf(*recovered) == text(entry["root_key"]));
    }
  }
}

TEST_CASE("vectors seal cases", "[crypto][vectors]") {
  const rapidjson::Value& all = cases("seal_cases");
  for (rapidjson::SizeType index = 0; index < all.Size(); ++index) {
    const rapidjson::Value& entry = all[index];
    INFO("seal case " << index << ": nonce " << text(entry["nonce"]));
    const crypto::SecretBytes key = secretFromHex(entry["key"]);
    const std::vector<std::uint8_t> nonce = hexBytes(entry["nonce"]);
    const std::string plaintext = text(entry["plaintext"]);
    const std::vector<std::uint8_t> plaintextBytes(plaintext.begin(), plaintext.end());

    auto sealed = crypto::sealProbeWith(key, nonce, plaintextBytes);
    REQUIRE(sealed.ok());
    CHECK(crypto::hexEncode(sealed->ciphertext) == text(entry["ciphertext"]));
    CHECK(sealed->expectedHash == text(entry["expected_hash"]));
    CHECK(spike::encodeVerifyRequest(*sealed) == text(entry["verify_body"]));

    // Nexus's side: decode the body, open the probe, hash the plaintext.
    auto request = spike::decodeVerifyRequest(text(entry["verify_body"]));
    REQUIRE(request.ok());
    auto opened = crypto::openProbe(key, request->nonce, request->ciphertext);
    REQUIRE(opened.ok());
    CHECK(asText(*opened) == plaintext);
    auto hash = crypto::sha256Hex(opened->span());
    REQUIRE(hash.ok());
    CHECK(*hash == text(entry["expected_hash"]));
  }
}
