// Test PKI: certificate and key creation with the OpenSSL 3 API. Failures
// throw std::runtime_error, which Catch2 reports with the OpenSSL error queue.
#include "support/pki/test_pki.h"

#include <atomic>
#include <stdexcept>
#include <utility>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "spike_bootstrap/common/openssl.h"

namespace spike_bootstrap::testing {
namespace {

void check(bool ok, const char* step) {
  if (!ok) {
    throw std::runtime_error(std::string("test PKI: ") + step + ": " + drainOpensslErrors());
  }
}

std::shared_ptr<X509> shareCert(X509* cert) { return {cert, X509_free}; }

std::shared_ptr<EVP_PKEY> makeKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "generate P-256 key");
  return {key, EVP_PKEY_free};
}

std::string joinNames(const std::vector<std::string>& names, const char* prefix) {
  std::string text = prefix;
  for (const std::string& name : names) {
    if (text.size() > std::string(prefix).size()) {
      text += ',';
    }
    text += name;
  }
  return text;
}

void addExtension(X509* cert, X509V3_CTX* context, int nid, const std::string& value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, context, nid, value.c_str());
  check(extension != nullptr, OBJ_nid2sn(nid));
  int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  check(added == 1, "add extension");
}

void addName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = nullptr;
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(value.c_str());
    check(address != nullptr, "parse IP address SAN");
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, address);
  } else {
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    check(ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) == 1, "SAN text");
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, type, text);
  }
  sk_GENERAL_NAME_push(names, name);
}

// Adds the subject alternative names one by one rather than through a
// configuration string, so any URI (commas included) comes out as given.
void addSubjectAltNames(X509* cert, const CertOptions& options) {
  if (options.uris.empty() && options.dnsNames.empty() && options.ipAddresses.empty()) {
    return;
  }
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const std::string& uri : options.uris) {
    addName(names, GEN_URI, uri);
  }
  for (const std::string& dns : options.dnsNames) {
    addName(names, GEN_DNS, dns);
  }
  for (const std::string& ip : options.ipAddresses) {
    addName(names, GEN_IPADD, ip);
  }
  int added = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
  check(added == 1, "add subject alternative names");
}

void setSerial(X509* cert) {
  static std::atomic<long> next{1};
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert), next++) == 1, "set serial number");
}

// Builds and signs one certificate. issuer and issuerKey are null for a
// self-signed certificate.
std::shared_ptr<X509> signCert(const CertOptions& options, EVP_PKEY* key, X509* issuer,
                               EVP_PKEY* issuerKey) {
  std::shared_ptr<X509> cert = shareCert(X509_new());
  X509* raw = cert.get();
  check(X509_set_version(raw, X509_VERSION_3) == 1, "set version");
  setSerial(raw);
  check(X509_gmtime_adj(X509_getm_notBefore(raw), options.notBefore.count()) != nullptr,
        "set notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(raw), options.notAfter.count()) != nullptr,
        "set notAfter");

  X509_NAME* subject = X509_get_subject_name(raw);
  check(X509_NAME_add_entry_by_txt(
            subject, "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(options.commonName.c_str()), -1, -1, 0) == 1,
        "set subject");
  check(X509_set_issuer_name(raw, issuer ? X509_get_subject_name(issuer) : subject) == 1,
        "set issuer");
  check(X509_set_pubkey(raw, key) == 1, "set public key");

  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer ? issuer : raw, raw, nullptr, nullptr, 0);
  addExtension(raw, &context, NID_basic_constraints,
               options.isCa ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (!options.keyUsage.empty()) {
    addExtension(raw, &context, NID_key_usage, joinNames(options.keyUsage, "critical,"));
  }
  if (!options.extendedKeyUsage.empty()) {
    addExtension(raw, &context, NID_ext_key_usage, joinNames(options.extendedKeyUsage, ""));
  }
  addExtension(raw, &context, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    addExtension(raw, &context, NID_authority_key_identifier, "keyid:always");
  }
  addSubjectAltNames(raw, options);

  check(X509_sign(raw, issuerKey ? issuerKey : key, EVP_sha256()) > 0, "sign certificate");
  return cert;
}

Der derOf(X509* cert) {
  int length = i2d_X509(cert, nullptr);
  check(length > 0, "encode certificate");
  Der der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  check(i2d_X509(cert, &out) == length, "encode certificate");
  return der;
}

std::string pemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "write certificate PEM");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace

CertOptions svidOptions(std::string spiffeId) {
  CertOptions options;
  options.commonName = "spiffe-svid";
  options.uris = {std::move(spiffeId)};
  options.keyUsage = {"digitalSignature", "keyEncipherment", "keyAgreement"};
  options.extendedKeyUsage = {"serverAuth", "clientAuth"};
  return options;
}

CertOptions caOptions(std::string commonName, std::string trustDomain) {
  CertOptions options;
  options.commonName = std::move(commonName);
  if (!trustDomain.empty()) {
    options.uris = {"spiffe://" + trustDomain};
  }
  options.isCa = true;
  options.keyUsage = {"keyCertSign", "cRLSign"};
  options.extendedKeyUsage = {};
  options.notAfter = std::chrono::hours(24);
  return options;
}

TestCert::TestCert(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key,
                   std::vector<std::shared_ptr<X509>> intermediates)
    : cert_(std::move(cert)), key_(std::move(key)), intermediates_(std::move(intermediates)) {}

Der TestCert::certDer() const { return derOf(cert_.get()); }

std::string TestCert::certPem() const { return pemOf(cert_.get()); }

Der TestCert::keyDer() const {
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key_.get());
  check(info != nullptr, "convert key to PKCS#8");
  unsigned char* out = nullptr;
  int length = i2d_PKCS8_PRIV_KEY_INFO(info, &out);
  PKCS8_PRIV_KEY_INFO_free(info);
  check(length > 0, "encode PKCS#8 key");
  Der der(out, out + length);
  OPENSSL_clear_free(out, static_cast<std::size_t>(length));
  return der;
}

std::string TestCert::keyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                      nullptr) == 1,
        "write PKCS#8 key PEM");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Der TestCert::chainDer() const {
  std::vector<X509*> certs = {cert_.get()};
  for (const auto& intermediate : intermediates_) {
    certs.push_back(intermediate.get());
  }
  return concatDer(certs);
}

std::string TestCert::chainPem() const {
  std::string pem = pemOf(cert_.get());
  for (const auto& intermediate : intermediates_) {
    pem += pemOf(intermediate.get());
  }
  return pem;
}

TestCa::TestCa(TestCert certificate, std::shared_ptr<X509> root, std::string trustDomain,
               bool isRoot)
    : certificate_(std::move(certificate)),
      root_(std::move(root)),
      trustDomain_(std::move(trustDomain)),
      isRoot_(isRoot) {}

TestCa TestCa::root(const CertOptions& options) {
  std::shared_ptr<EVP_PKEY> key = makeKey();
  std::shared_ptr<X509> cert = signCert(options, key.get(), nullptr, nullptr);
  std::string trustDomain;
  if (!options.uris.empty() && options.uris.front().starts_with("spiffe://")) {
    trustDomain = options.uris.front().substr(9);
  }
  return TestCa(TestCert(cert, key, {}), cert, std::move(trustDomain), true);
}

TestCa TestCa::root(std::string trustDomain) {
  return root(caOptions("root CA " + trustDomain, trustDomain));
}

TestCa TestCa::issueCa(const CertOptions& options) const {
  return TestCa(issue(options), root_, trustDomain_, false);
}

TestCa TestCa::intermediate(std::string commonName) const {
  return issueCa(caOptions(std::move(commonName), trustDomain_));
}

TestCert TestCa::issue(const CertOptions& options) const {
  std::shared_ptr<EVP_PKEY> key = makeKey();
  std::shared_ptr<X509> cert =
      signCert(options, key.get(), certificate_.cert(), certificate_.key());
  return TestCert(std::move(cert), std::move(key), chainBelowRoot());
}

TestCert TestCa::issueSvid(std::string spiffeId) const {
  return issue(svidOptions(std::move(spiffeId)));
}

Der TestCa::bundleDer() const { return derOf(root_.get()); }

std::string TestCa::bundlePem() const { return pemOf(root_.get()); }

std::vector<std::shared_ptr<X509>> TestCa::chainBelowRoot() const {
  if (isRoot_) {
    return {};
  }
  std::vector<std::shared_ptr<X509>> chain = {certificate_.cert_};
  chain.insert(chain.end(), certificate_.intermediates().begin(),
               certificate_.intermediates().end());
  return chain;
}

Der concatDer(const std::vector<X509*>& certs) {
  Der der;
  for (X509* cert : certs) {
    Der one = derOf(cert);
    der.insert(der.end(), one.begin(), one.end());
  }
  return der;
}

}  // namespace spike_bootstrap::testing
