// X.509-SVID and bundle parsing, and the X.509-SVID rules.
#include "spike_bootstrap/spiffe/svid.h"

#include <ctime>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace spike_bootstrap::spiffe {
namespace {

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// Collects the URI SANs of cert and skips other SAN types.
std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> uris;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return uris;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
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

// Checks a certificate above the leaf: the X.509-SVID specification requires
// signing certificates to be CAs with the keyCertSign key usage.
Status checkSigningCertificate(X509* cert, std::size_t position) {
  std::uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_INVALID) != 0) {
    return invalid("chain certificate " + std::to_string(position) + " has malformed extensions");
  }
  if ((flags & EXFLAG_CA) == 0) {
    return invalid("chain certificate " + std::to_string(position) + " is not a CA");
  }
  if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return invalid("chain certificate " + std::to_string(position) +
                   " lacks the keyCertSign key usage");
  }
  return okStatus();
}

Result<TrustBundle> parseBundle(std::string trustDomain, Bytes der) {
  if (der.empty()) {
    return invalid("bundle of trust domain " + trustDomain + " is empty");
  }
  auto authorities = parseDerCertificates(der, "bundle of trust domain " + trustDomain);
  if (!authorities.ok()) {
    return authorities.status();
  }
  return TrustBundle{std::move(trustDomain), std::move(authorities).value()};
}

}  // namespace

const TrustBundle* X509Snapshot::bundleFor(std::string_view trustDomain) const {
  if (trustDomain == bundle.trustDomain) {
    return &bundle;
  }
  auto found = federatedBundles.find(trustDomain);
  return found == federatedBundles.end() ? nullptr : &found->second;
}

Result<std::vector<X509Ptr>> parseDerCertificates(Bytes der, std::string_view what) {
  if (der.empty()) {
    return invalid(std::string(what) + ": no certificates");
  }
  std::vector<X509Ptr> certs;
  const unsigned char* next = der.data();
  const unsigned char* end = der.data() + der.size();
  while (next < end) {
    X509Ptr cert(d2i_X509(nullptr, &next, end - next));
    if (!cert) {
      return invalid(std::string(what) + ": certificate " + std::to_string(certs.size() + 1) +
                     " is not valid DER (" + drainOpensslErrors() + ")");
    }
    certs.push_back(std::move(cert));
  }
  return certs;
}

Result<PkeyPtr> parsePkcs8PrivateKey(Bytes der) {
  const unsigned char* next = der.data();
  PKCS8_PRIV_KEY_INFO* info =
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &next, static_cast<long>(der.size()));
  if (info == nullptr) {
    // The error queue names ASN.1 tags only, never key bytes.
    return invalid("private key is not PKCS#8 DER (" + drainOpensslErrors() + ")");
  }
  bool trailing = next != der.data() + der.size();
  PkeyPtr key(EVP_PKCS82PKEY(info));
  // PKCS8_PRIV_KEY_INFO_free wipes the key bytes it holds.
  PKCS8_PRIV_KEY_INFO_free(info);
  if (trailing) {
    return invalid("private key has bytes after the PKCS#8 structure");
  }
  if (!key) {
    return invalid("private key algorithm is not supported (" + drainOpensslErrors() + ")");
  }
  return key;
}

Result<SpiffeId> spiffeIdFromCertificate(X509* cert) {
  std::vector<std::string> uris = uriSans(cert);
  if (uris.size() != 1) {
    return invalid("certificate has " + std::to_string(uris.size()) +
                   " URI SANs, an X.509-SVID must have exactly one");
  }
  auto id = parseSpiffeId(uris.front());
  if (!id.ok()) {
    return invalid("certificate URI SAN: " + id.status().message());
  }
  return id;
}

Result<SpiffeId> checkSvidLeaf(X509* leaf) {
  std::uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_INVALID) != 0) {
    return invalid("leaf certificate has malformed extensions");
  }
  auto id = spiffeIdFromCertificate(leaf);
  if (!id.ok()) {
    return id.status().withContext("leaf");
  }

  const std::string name = "leaf certificate of " + id->toString();
  if (id->path.empty()) {
    return invalid(name + " has no path, but a leaf SPIFFE ID must have one");
  }
  if ((flags & EXFLAG_CA) != 0) {
    return invalid(name + " is a CA");
  }
  if ((flags & EXFLAG_KUSAGE) == 0) {
    return invalid(name + " has no key usage extension");
  }
  std::uint32_t usage = X509_get_key_usage(leaf);
  if ((usage & KU_DIGITAL_SIGNATURE) == 0) {
    return invalid(name + " lacks the digitalSignature key usage");
  }
  if ((usage & KU_KEY_CERT_SIGN) != 0) {
    return invalid(name + " has the keyCertSign key usage");
  }
  if ((usage & KU_CRL_SIGN) != 0) {
    return invalid(name + " has the cRLSign key usage");
  }
  return id;
}

Result<X509Svid> parseX509Svid(const SvidMaterial& material) {
  std::string name = material.spiffeId.empty() ? "SVID" : "SVID " + material.spiffeId;
  auto chain = parseDerCertificates(material.chainDer, name);
  if (!chain.ok()) {
    return chain.status();
  }
  auto id = checkSvidLeaf(chain->front().get());
  if (!id.ok()) {
    return id.status().withContext(name);
  }
  if (!material.spiffeId.empty() && id->toString() != material.spiffeId) {
    return invalid(name + ": leaf certificate is for " + id->toString());
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (Status status = checkSigningCertificate((*chain)[i].get(), i + 1); !status.ok()) {
      return status.withContext(name);
    }
  }

  auto key = parsePkcs8PrivateKey(material.keyDer.span());
  if (!key.ok()) {
    return key.status().withContext(name);
  }
  if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
    ERR_clear_error();
    return invalid(name + ": private key does not match the leaf certificate");
  }
  return X509Svid{std::move(id).value(), std::move(chain).value(), std::move(key).value(),
                  material.hint};
}

Result<std::shared_ptr<const X509Snapshot>> makeX509Snapshot(
    const SvidMaterial& svid, const std::map<std::string, std::vector<std::uint8_t>>& federated) {
  auto parsed = parseX509Svid(svid);
  if (!parsed.ok()) {
    return parsed.status();
  }
  auto snapshot = std::make_shared<X509Snapshot>();
  snapshot->svid = std::move(parsed).value();

  auto own = parseBundle(snapshot->svid.id.trustDomain, svid.bundleDer);
  if (!own.ok()) {
    return own.status();
  }
  snapshot->bundle = std::move(own).value();

  for (const auto& [key, der] : federated) {
    auto trustDomain = parseTrustDomain(key);
    if (!trustDomain.ok()) {
      return trustDomain.status().withContext("federated bundle");
    }
    // The own bundle stays the only authority of the own trust domain, even
    // when the agent also lists that domain among the federated bundles.
    if (*trustDomain == snapshot->svid.id.trustDomain) {
      continue;
    }
    auto bundle = parseBundle(*trustDomain, der);
    if (!bundle.ok()) {
      return bundle.status();
    }
    snapshot->federatedBundles.emplace(*trustDomain, std::move(bundle).value());
  }
  return std::shared_ptr<const X509Snapshot>(std::move(snapshot));
}

std::string certificateFingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return "unknown";
  }
  std::string hex;
  hex.reserve(length * 2);
  constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0xf];
  }
  return hex;
}

std::string certificateNotAfter(X509* cert) {
  std::tm time{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &time) != 1) {
    ERR_clear_error();
    return "unknown";
  }
  char text[32];
  if (std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &time) == 0) {
    return "unknown";
  }
  return text;
}

}  // namespace spike_bootstrap::spiffe
