// X.509-SVIDs and trust bundles: parsing the Workload API's DER fields with
// OpenSSL and checking the X.509-SVID rules (SPIFFE X.509-SVID specification,
// github.com/spiffe/spiffe, standards/X509-SVID.md).
//
// An X509Snapshot is one Workload API update, parsed and checked. It is
// immutable once built, so threads share it through
// std::shared_ptr<const X509Snapshot>.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/spiffe/spiffe_id.h"

namespace spike_bootstrap::spiffe {

using Bytes = std::span<const std::uint8_t>;

// The CA certificates of one trust domain.
struct TrustBundle {
  std::string trustDomain;
  std::vector<X509Ptr> authorities;
};

// An X.509-SVID: its ID, the chain (leaf first) and the leaf's private key.
struct X509Svid {
  SpiffeId id;
  std::vector<X509Ptr> chain;
  PkeyPtr key;
  std::string hint;

  X509* leaf() const { return chain.front().get(); }
};

struct X509Snapshot {
  // The default SVID: the first one of the Workload API response.
  X509Svid svid;
  // The bundle of the SVID's own trust domain.
  TrustBundle bundle;
  // Bundles of federated trust domains, keyed by trust domain name
  // ("other.org", without spiffe://).
  std::map<std::string, TrustBundle, std::less<>> federatedBundles;

  // Returns the bundle of trustDomain (own or federated), or nullptr when
  // this snapshot has none.
  const TrustBundle* bundleFor(std::string_view trustDomain) const;
};

// Returns the newest snapshot, or nullptr before the first one. TLS contexts
// call it per connection, so each new connection presents the current SVID.
using SnapshotProvider = std::function<std::shared_ptr<const X509Snapshot>()>;

// One SVID as the Workload API sends it. The key is secret, so it comes in a
// SecretBytes; the other fields are public.
struct SvidMaterial {
  std::string spiffeId;
  std::vector<std::uint8_t> chainDer;   // DER certificates, leaf first, concatenated
  crypto::SecretBytes keyDer;           // PKCS#8 PrivateKeyInfo, DER
  std::vector<std::uint8_t> bundleDer;  // DER CA certificates, concatenated
  std::string hint;
};

// Parses concatenated DER certificates. Returns InvalidArgument when the bytes
// are empty, are not DER certificates or have trailing garbage.
Result<std::vector<X509Ptr>> parseDerCertificates(Bytes der, std::string_view what);

// Parses a PKCS#8 PrivateKeyInfo in DER. Returns InvalidArgument when it is
// not one; the message never contains key bytes.
Result<PkeyPtr> parsePkcs8PrivateKey(Bytes der);

// Returns the SPIFFE ID in a certificate's only URI SAN. Returns
// InvalidArgument when it has no URI SAN, more than one, or one that is not a
// valid SPIFFE ID.
Result<SpiffeId> spiffeIdFromCertificate(X509* cert);

// Returns the SPIFFE ID of an X.509-SVID leaf after checking the leaf rules.
// The leaf has exactly one URI SAN, a SPIFFE ID with a path. It is not a CA
// and has the digitalSignature key usage but neither keyCertSign nor cRLSign.
// Returns InvalidArgument naming the broken rule otherwise. The validity
// window and the signature are not checked here.
Result<SpiffeId> checkSvidLeaf(X509* leaf);

// Parses and checks one SVID: the leaf rules, signing certificates that are
// CAs with keyCertSign, a private key matching the leaf, and a leaf ID equal
// to material.spiffeId when that is set. Returns InvalidArgument naming the
// SVID and the broken rule.
Result<X509Svid> parseX509Svid(const SvidMaterial& material);

// Builds a snapshot from the default SVID, its bundle and the federated
// bundles (keys are trust domain IDs "spiffe://other.org" or names). Returns
// InvalidArgument when any part is malformed, breaks the X.509-SVID rules or
// the own bundle is empty.
Result<std::shared_ptr<const X509Snapshot>> makeX509Snapshot(
    const SvidMaterial& svid, const std::map<std::string, std::vector<std::uint8_t>>& federated);

// Returns the SHA-256 fingerprint of a certificate as lower-case hex, for logs.
std::string certificateFingerprint(X509* cert);

// Returns a certificate's notAfter as RFC 3339 UTC ("2025-01-02T03:04:05Z").
std::string certificateNotAfter(X509* cert);

}  // namespace spike_bootstrap::spiffe
