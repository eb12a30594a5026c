// A test PKI made with the OpenSSL API at test time: root and intermediate
// CAs, leaf certificates with any SANs, key usages and validity window, and
// X.509-SVIDs. Keys are EC P-256.
//
// Every certificate is created fresh in the calling process, so tests need no
// files on disk. Objects are immutable after creation and cheap to copy (the
// OpenSSL handles are shared), so one TestCa can be used from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace spike_bootstrap::testing {

using Der = std::vector<std::uint8_t>;

// What goes into one certificate. Key usage and extended key usage names are
// OpenSSL's configuration names ("digitalSignature", "keyCertSign",
// "serverAuth"); an empty list leaves the extension out.
struct CertOptions {
  std::string commonName = "test";
  std::vector<std::string> uris;         // URI SANs, such as SPIFFE IDs
  std::vector<std::string> dnsNames;     // DNS SANs, such as "localhost"
  std::vector<std::string> ipAddresses;  // IP SANs, such as "127.0.0.1" or "::1"
  bool isCa = false;
  std::vector<std::string> keyUsage = {"digitalSignature"};
  std::vector<std::string> extendedKeyUsage = {"serverAuth", "clientAuth"};
  // Validity window relative to the time of creation. A negative notAfter
  // makes an expired certificate, a positive notBefore one not yet valid.
  std::chrono::seconds notBefore = std::chrono::hours(-1);
  std::chrono::seconds notAfter = std::chrono::hours(1);
};

// Returns options for a valid X.509-SVID leaf with this SPIFFE ID: one URI
// SAN, not a CA, digitalSignature + keyEncipherment + keyAgreement, and
// serverAuth + clientAuth.
CertOptions svidOptions(std::string spiffeId);

// Returns options for a CA certificate: CA flag set, keyCertSign + cRLSign,
// no extended key usage, valid from an hour ago until a day from now. When
// trustDomain is not empty, the certificate carries the URI SAN
// spiffe://<trustDomain>, the way SPIFFE trust domain CAs are named.
CertOptions caOptions(std::string commonName, std::string trustDomain = "");

// A certificate, its private key and the intermediates between it and its root
// (leaf side first, root left out).
class TestCert {
 public:
  TestCert(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key,
           std::vector<std::shared_ptr<X509>> intermediates);

  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  const std::vector<std::shared_ptr<X509>>& intermediates() const { return intermediates_; }

  Der certDer() const;
  std::string certPem() const;
  // The private key as PKCS#8 PrivateKeyInfo, DER or PEM ("BEGIN PRIVATE KEY").
  Der keyDer() const;
  std::string keyPem() const;
  // The certificate followed by its intermediates: concatenated DER, as the
  // Workload API's x509_svid field carries it, or PEM blocks.
  Der chainDer() const;
  std::string chainPem() const;

 private:
  friend class TestCa;

  std::shared_ptr<X509> cert_;
  std::shared_ptr<EVP_PKEY> key_;
  std::vector<std::shared_ptr<X509>> intermediates_;
};

// A certificate authority that signs what it is asked to, expired or not.
class TestCa {
 public:
  // Creates a self-signed root CA.
  static TestCa root(const CertOptions& options);
  // Creates a root CA for a SPIFFE trust domain (URI SAN spiffe://<trustDomain>).
  static TestCa root(std::string trustDomain);

  // Creates a CA signed by this one. options.isCa decides the CA flag, so a
  // test can also build an "intermediate" that is not allowed to sign.
  TestCa issueCa(const CertOptions& options) const;
  // Creates an intermediate CA in the same trust domain.
  TestCa intermediate(std::string commonName) const;

  // Signs a new certificate with a new key.
  TestCert issue(const CertOptions& options) const;
  // Signs an X.509-SVID for spiffeId, valid for an hour.
  TestCert issueSvid(std::string spiffeId) const;

  const TestCert& certificate() const { return certificate_; }
  const std::string& trustDomain() const { return trustDomain_; }

  // The root of this CA's chain: DER (as the Workload API's bundle fields
  // carry it) or PEM. For an intermediate this is its root, not itself.
  Der bundleDer() const;
  std::string bundlePem() const;

 private:
  TestCa(TestCert certificate, std::shared_ptr<X509> root, std::string trustDomain, bool isRoot);

  // Intermediates that a certificate signed by this CA must send: this CA
  // and the intermediates above it, unless this CA is the root.
  std::vector<std::shared_ptr<X509>> chainBelowRoot() const;

  TestCert certificate_;
  std::shared_ptr<X509> root_;
  std::string trustDomain_;
  bool isRoot_ = false;
};

// Returns the DER encodings of the certificates concatenated, as the Workload
// API's bundle and federated_bundles fields carry them.
Der concatDer(const std::vector<X509*>& certs);

}  // namespace spike_bootstrap::testing
