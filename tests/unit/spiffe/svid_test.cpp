// X.509-SVID parsing and the X.509-SVID rules, one violation per test.
#include <catch2/catch.hpp>

#include "spike_bootstrap/spiffe/svid.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::spiffe {
namespace {

using testing::CertOptions;
using testing::TestCa;
using testing::TestCert;

const std::string kBootstrapId = "spiffe://example.org/spike/bootstrap";

SvidMaterial materialOf(const TestCert& cert, const TestCa& ca, std::string spiffeId = "") {
  SvidMaterial material;
  material.spiffeId = std::move(spiffeId);
  material.chainDer = cert.chainDer();
  material.keyDer = crypto::SecretBytes::copyOf(cert.keyDer());
  material.bundleDer = ca.bundleDer();
  return material;
}

// Parses an SVID issued with options and returns the failure message, or ""
// when it parsed.
std::string parseFailure(const CertOptions& options) {
  TestCa ca = TestCa::root("example.org");
  auto svid = parseX509Svid(materialOf(ca.issue(options), ca));
  return svid.ok() ? "" : svid.status().message();
}

}  // namespace

TEST_CASE("SVID parses chain key and ID", "[spiffe][svid]") {
  TestCa root = TestCa::root("example.org");
  TestCa intermediate = root.intermediate("intermediate");
  TestCert cert = intermediate.issueSvid(kBootstrapId);
  SvidMaterial material = materialOf(cert, root, kBootstrapId);
  material.hint = "internal";

  auto svid = parseX509Svid(material);
  REQUIRE(svid.ok());
  CHECK(svid->id.toString() == kBootstrapId);
  CHECK(svid->chain.size() == 2);
  CHECK(X509_cmp(svid->leaf(), cert.cert()) == 0);
  CHECK(X509_check_private_key(svid->leaf(), svid->key.get()) == 1);
  CHECK(svid->hint == "internal");
}

TEST_CASE("SVID leaf must have one URI SAN", "[spiffe][svid]") {
  CertOptions none = testing::svidOptions(kBootstrapId);
  none.uris = {};
  CHECK_THAT(parseFailure(none), Catch::Contains("0 URI SANs"));

  CertOptions two = testing::svidOptions(kBootstrapId);
  two.uris.push_back("spiffe://example.org/spike/nexus");
  CHECK_THAT(parseFailure(two), Catch::Contains("2 URI SANs"));

  CertOptions notSpiffe = testing::svidOptions("https://example.org/spike/bootstrap");
  CHECK_THAT(parseFailure(notSpiffe), Catch::Contains("must start with spiffe://"));
}

TEST_CASE("SVID leaf ID must have a path", "[spiffe][svid]") {
  CertOptions options = testing::svidOptions("spiffe://example.org");
  CHECK_THAT(parseFailure(options), Catch::Contains("has no path"));
}

TEST_CASE("SVID leaf must not be a CA", "[spiffe][svid]") {
  CertOptions options = testing::svidOptions(kBootstrapId);
  options.isCa = true;
  CHECK_THAT(parseFailure(options), Catch::Contains("is a CA"));
}

TEST_CASE("SVID leaf needs digitalSignature", "[spiffe][svid]") {
  CertOptions options = testing::svidOptions(kBootstrapId);
  options.keyUsage = {"keyEncipherment"};
  CHECK_THAT(parseFailure(options), Catch::Contains("lacks the digitalSignature key usage"));

  options.keyUsage = {};
  CHECK_THAT(parseFailure(options), Catch::Contains("has no key usage extension"));
}

TEST_CASE("SVID leaf must not have keyCertSign", "[spiffe][svid]") {
  CertOptions options = testing::svidOptions(kBootstrapId);
  options.keyUsage = {"digitalSignature", "keyCertSign"};
  CHECK_THAT(parseFailure(options), Catch::Contains("has the keyCertSign key usage"));
}

TEST_CASE("SVID leaf must not have cRLSign", "[spiffe][svid]") {
  CertOptions options = testing::svidOptions(kBootstrapId);
  options.keyUsage = {"digitalSignature", "cRLSign"};
  CHECK_THAT(parseFailure(options), Catch::Contains("has the cRLSign key usage"));
}

TEST_CASE("SVID key must match the leaf", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  TestCert cert = ca.issueSvid(kBootstrapId);
  TestCert other = ca.issueSvid(kBootstrapId);
  SvidMaterial material = materialOf(cert, ca);
  material.keyDer = crypto::SecretBytes::copyOf(other.keyDer());

  auto svid = parseX509Svid(material);
  REQUIRE_FALSE(svid.ok());
  CHECK(svid.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(svid.status().message(), Catch::Contains("does not match the leaf"));
}

TEST_CASE("SVID ID field must match the leaf", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  auto svid =
      parseX509Svid(materialOf(ca.issueSvid(kBootstrapId), ca, "spiffe://example.org/spike/nexus"));
  REQUIRE_FALSE(svid.ok());
  CHECK_THAT(svid.status().message(), Catch::Contains("leaf certificate is for " + kBootstrapId));
}

TEST_CASE("SVID signing certificate must be a CA", "[spiffe][svid]") {
  TestCa root = TestCa::root("example.org");
  CertOptions notCa = testing::caOptions("not a CA", "example.org");
  notCa.isCa = false;
  TestCa fakeIntermediate = root.issueCa(notCa);
  auto svid = parseX509Svid(materialOf(fakeIntermediate.issueSvid(kBootstrapId), root));
  REQUIRE_FALSE(svid.ok());
  CHECK_THAT(svid.status().message(), Catch::Contains("chain certificate 2 is not a CA"));

  CertOptions noCertSign = testing::caOptions("no keyCertSign", "example.org");
  noCertSign.keyUsage = {"cRLSign"};
  TestCa weakIntermediate = root.issueCa(noCertSign);
  svid = parseX509Svid(materialOf(weakIntermediate.issueSvid(kBootstrapId), root));
  REQUIRE_FALSE(svid.ok());
  CHECK_THAT(svid.status().message(), Catch::Contains("lacks the keyCertSign key usage"));
}

TEST_CASE("SVID rejects malformed DER", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  TestCert cert = ca.issueSvid(kBootstrapId);

  SvidMaterial empty = materialOf(cert, ca);
  empty.chainDer.clear();
  CHECK_THAT(parseX509Svid(empty).status().message(), Catch::Contains("no certificates"));

  SvidMaterial trailing = materialOf(cert, ca);
  trailing.chainDer.push_back(0x30);
  CHECK_THAT(parseX509Svid(trailing).status().message(),
             Catch::Contains("certificate 2 is not valid DER"));

  SvidMaterial badKey = materialOf(cert, ca);
  badKey.keyDer = crypto::SecretBytes::copyOf(std::vector<std::uint8_t>{0x30, 0x03, 0x02, 0x01});
  CHECK_THAT(parseX509Svid(badKey).status().message(), Catch::Contains("not PKCS#8 DER"));
}

TEST_CASE("snapshot holds own and federated bundles", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  TestCa other = TestCa::root("other.org");
  TestCa third = TestCa::root("third.org");
  std::map<std::string, std::vector<std::uint8_t>> federated = {
      {"spiffe://other.org", other.bundleDer()},
      {"third.org", testing::concatDer({third.certificate().cert(), ca.certificate().cert()})},
  };

  auto snapshot = makeX509Snapshot(materialOf(ca.issueSvid(kBootstrapId), ca), federated);
  REQUIRE(snapshot.ok());
  const X509Snapshot& value = **snapshot;
  CHECK(value.bundle.trustDomain == "example.org");
  CHECK(value.bundle.authorities.size() == 1);
  REQUIRE(value.bundleFor("example.org") == &value.bundle);
  REQUIRE(value.bundleFor("other.org") != nullptr);
  CHECK(value.bundleFor("other.org")->authorities.size() == 1);
  REQUIRE(value.bundleFor("third.org") != nullptr);
  CHECK(value.bundleFor("third.org")->authorities.size() == 2);
  CHECK(value.bundleFor("missing.org") == nullptr);
}

TEST_CASE("snapshot keeps own bundle over federated", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  TestCa impostor = TestCa::root("example.org");
  std::map<std::string, std::vector<std::uint8_t>> federated = {
      {"spiffe://example.org", impostor.bundleDer()}};

  auto snapshot = makeX509Snapshot(materialOf(ca.issueSvid(kBootstrapId), ca), federated);
  REQUIRE(snapshot.ok());
  const TrustBundle* bundle = (*snapshot)->bundleFor("example.org");
  REQUIRE(bundle != nullptr);
  REQUIRE(bundle->authorities.size() == 1);
  CHECK(X509_cmp(bundle->authorities[0].get(), ca.certificate().cert()) == 0);
  CHECK((*snapshot)->federatedBundles.empty());
}

TEST_CASE("snapshot rejects bad bundles", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  SvidMaterial noBundle = materialOf(ca.issueSvid(kBootstrapId), ca);
  noBundle.bundleDer.clear();
  auto snapshot = makeX509Snapshot(noBundle, {});
  REQUIRE_FALSE(snapshot.ok());
  CHECK_THAT(snapshot.status().message(), Catch::Contains("bundle of trust domain example.org"));

  snapshot = makeX509Snapshot(materialOf(ca.issueSvid(kBootstrapId), ca),
                              {{"spiffe://Bad.org", ca.bundleDer()}});
  REQUIRE_FALSE(snapshot.ok());
  CHECK_THAT(snapshot.status().message(), Catch::Contains("federated bundle"));

  snapshot = makeX509Snapshot(materialOf(ca.issueSvid(kBootstrapId), ca),
                              {{"spiffe://other.org", {0x01, 0x02}}});
  REQUIRE_FALSE(snapshot.ok());
  CHECK_THAT(snapshot.status().message(), Catch::Contains("bundle of trust domain other.org"));
}

TEST_CASE("certificate fingerprint and expiry for logs", "[spiffe][svid]") {
  TestCa ca = TestCa::root("example.org");
  TestCert cert = ca.issueSvid(kBootstrapId);
  std::string fingerprint = certificateFingerprint(cert.cert());
  CHECK(fingerprint.size() == 64);
  CHECK(fingerprint.find_first_not_of("0123456789abcdef") == std::string::npos);
  std::string notAfter = certificateNotAfter(cert.cert());
  CHECK(notAfter.size() == 20);
  CHECK(notAfter.back() == 'Z');
}

}  // namespace spike_bootstrap::spiffe
