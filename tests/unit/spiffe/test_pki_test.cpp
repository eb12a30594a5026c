// Checks that the test PKI makes what the other tests rely on: chains that
// verify, the SANs, flags and validity windows asked for, and PKCS#8 keys.
#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "spike_bootstrap/common/openssl.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {
namespace {

// Verifies cert and its intermediates against the root of bundle. Returns the
// X509_V_ERR code, which is X509_V_OK on success.
int verifyChain(const TestCert& cert, const TestCa& bundle) {
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), bundle.certificate().cert());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (const auto& intermediate : cert.intermediates()) {
    sk_X509_push(untrusted, intermediate.get());
  }
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), cert.cert(), untrusted);
  int result = X509_verify_cert(context.get());
  int error = X509_STORE_CTX_get_error(context.get());
  sk_X509_free(untrusted);
  return result == 1 ? X509_V_OK : error;
}

std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> uris;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                        static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  GENERAL_NAMES_free(names);
  return uris;
}

}  // namespace

TEST_CASE("test PKI SVID verifies against its root", "[spiffe][pki]") {
  TestCa ca = TestCa::root("example.org");
  TestCert svid = ca.issueSvid("spiffe://example.org/spike/keeper");

  CHECK(verifyChain(svid, ca) == X509_V_OK);
  CHECK(uriSans(svid.cert()) == std::vector<std::string>{"spiffe://example.org/spike/keeper"});
  CHECK(X509_check_ca(svid.cert()) == 0);
  CHECK((X509_get_key_usage(svid.cert()) & KU_DIGITAL_SIGNATURE) != 0);
  CHECK(X509_check_private_key(svid.cert(), svid.key()) == 1);
  CHECK(ca.trustDomain() == "example.org");
  CHECK(uriSans(ca.certificate().cert()) == std::vector<std::string>{"spiffe://example.org"});
}

TEST_CASE("test PKI intermediates form a chain", "[spiffe][pki]") {
  TestCa root = TestCa::root("example.org");
  TestCa middle = root.intermediate("intermediate 1");
  TestCa lower = middle.intermediate("intermediate 2");
  TestCert svid = lower.issueSvid("spiffe://example.org/spike/nexus");

  REQUIRE(svid.intermediates().size() == 2);
  CHECK(X509_cmp(svid.intermediates()[0].get(), lower.certificate().cert()) == 0);
  CHECK(X509_cmp(svid.intermediates()[1].get(), middle.certificate().cert()) == 0);
  CHECK(verifyChain(svid, root) == X509_V_OK);
  CHECK(lower.bundleDer() == root.bundleDer());

  Der expected = svid.certDer();
  for (const auto& intermediate : svid.intermediates()) {
    Der one = concatDer({intermediate.get()});
    expected.insert(expected.end(), one.begin(), one.end());
  }
  CHECK(svid.chainDer() == expected);
}

TEST_CASE("test PKI foreign CA does not verify", "[spiffe][pki]") {
  TestCa ca = TestCa::root("example.org");
  TestCa foreign = TestCa::root("example.org");
  TestCert svid = foreign.issueSvid("spiffe://example.org/spike/keeper");

  CHECK(verifyChain(svid, ca) != X509_V_OK);
}

TEST_CASE("test PKI validity windows", "[spiffe][pki]") {
  TestCa ca = TestCa::root("example.org");
  CertOptions expired = svidOptions("spiffe://example.org/a");
  expired.notBefore = std::chrono::hours(-2);
  expired.notAfter = std::chrono::hours(-1);
  CertOptions future = svidOptions("spiffe://example.org/b");
  future.notBefore = std::chrono::hours(1);
  future.notAfter = std::chrono::hours(2);

  CHECK(verifyChain(ca.issue(expired), ca) == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(verifyChain(ca.issue(future), ca) == X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST_CASE("test PKI server certificate names", "[spiffe][pki]") {
  TestCa ca = TestCa::root(caOptions("kubernetes CA"));
  CertOptions options;
  options.commonName = "kube-apiserver";
  options.dnsNames = {"localhost"};
  options.ipAddresses = {"127.0.0.1", "::1"};
  TestCert server = ca.issue(options);

  CHECK(X509_check_host(server.cert(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(server.cert(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(server.cert(), "::1", 0) == 1);
  CHECK(verifyChain(server, ca) == X509_V_OK);
  CHECK(ca.trustDomain().empty());
}

TEST_CASE("test PKI CA flag and key usage options", "[spiffe][pki]") {
  TestCa ca = TestCa::root("example.org");
  CertOptions options = svidOptions("spiffe://example.org/x");
  options.isCa = true;
  options.keyUsage = {"digitalSignature", "keyCertSign"};
  TestCert cert = ca.issue(options);

  CHECK(X509_check_ca(cert.cert()) != 0);
  CHECK((X509_get_key_usage(cert.cert()) & KU_KEY_CERT_SIGN) != 0);

  options.keyUsage = {};
  CHECK(X509_get_extension_flags(ca.issue(options).cert()) & EXFLAG_CA);
  CHECK((X509_get_extension_flags(ca.issue(options).cert()) & EXFLAG_KUSAGE) == 0);
}

TEST_CASE("test PKI keys round-trip as PKCS#8", "[spiffe][pki]") {
  TestCa ca = TestCa::root("example.org");
  TestCert svid = ca.issueSvid("spiffe://example.org/spike/bootstrap");

  Der der = svid.keyDer();
  const unsigned char* in = der.data();
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &in, static_cast<long>(der.size()));
  REQUIRE(info != nullptr);
  PkeyPtr fromDer(EVP_PKCS82PKEY(info));
  PKCS8_PRIV_KEY_INFO_free(info);
  REQUIRE(fromDer);
  CHECK(X509_check_private_key(svid.cert(), fromDer.get()) == 1);

  std::string pem = svid.keyPem();
  CHECK(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr fromPem(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(fromPem);
  CHECK(X509_check_private_key(svid.cert(), fromPem.get()) == 1);
  CHECK(svid.certPem().starts_with("-----BEGIN CERTIFICATE-----"));
}

}  // namespace spike_bootstrap::testing
