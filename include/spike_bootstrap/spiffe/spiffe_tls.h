// SPIFFE mTLS: TLS contexts that present our X.509-SVID and authenticate the
// peer by its SPIFFE ID, the way go-spiffe's tlsconfig does.
//
// Peer verification replaces OpenSSL's default chain check with these steps:
//   1. take the SPIFFE ID from the peer leaf's single spiffe:// URI SAN,
//   2. pick the bundle of that ID's trust domain (own or federated),
//   3. verify the chain against exactly that bundle in a fresh X509_STORE_CTX,
//   4. check the X.509-SVID leaf rules,
//   5. authorize the ID with a PeerPolicy.
// There is no host-name check. When a step fails, the handshake fails and the
// context records why (see spiffeRejection()).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/net/tls_profile.h"
#include "spike_bootstrap/spiffe/spiffe_id.h"
#include "spike_bootstrap/spiffe/svid.h"

namespace spike_bootstrap::spiffe {

// The SPIFFE IDs a peer may have: those of any of its roles, or any ID at all.
class PeerPolicy {
 public:
  // Accepts IDs that any of the role policies accepts.
  explicit PeerPolicy(std::vector<RolePolicy> roles);
  // Accepts a single role.
  PeerPolicy(Role role, std::vector<std::string> trustDomains);
  // Accepts every ID whose chain verifies and leaves authorization to the
  // application, for servers that return HTTP 401 to unauthorized callers.
  static PeerPolicy anyId();

  bool accepts(const SpiffeId& id) const;
  // Describes the accepted IDs, such as "a keeper ID (spiffe://td/spike/keeper[/...])".
  std::string describe() const;

 private:
  PeerPolicy() = default;

  std::vector<RolePolicy> roles_;
  bool anyId_ = false;
};

// The client side, used by the HTTPS client for keepers and Nexus.
class SpiffeTlsProfile final : public net::TlsClientProfile {
 public:
  // snapshots must stay valid for the profile's lifetime.
  SpiffeTlsProfile(SnapshotProvider snapshots, PeerPolicy policy);
  SpiffeTlsProfile(SnapshotProvider snapshots, Role peerRole,
                   std::vector<std::string> peerTrustDomains);

  // Builds a client context from the newest snapshot: our leaf, its
  // intermediates and key; TLS 1.2 or later; ALPN "http/1.1" only; SPIFFE
  // peer verification with the bundles of that same snapshot. Returns
  // FailedPrecondition before the first snapshot and Internal when OpenSSL
  // rejects the SVID.
  Result<SslCtxPtr> makeContext(const net::Url& url) const override;
  bool checkHostName() const override { return false; }
  // Returns why the peer was rejected, such as "peer https://k1:8443
  // presented spiffe://td/spike/nexus, expected a keeper ID
  // (spiffe://td/spike/keeper[/...])", or nullopt.
  std::optional<std::string> peerRejection(SSL_CTX* context) const override;

 private:
  SnapshotProvider snapshots_;
  PeerPolicy policy_;
};

// Builds a server context for SPIFFE mTLS, as used by the fake keeper and
// Nexus: presents the SVID of the snapshot current now, requires a client
// certificate and verifies it like the client side does, with the bundles of
// the newest snapshot at each handshake. TLS 1.2 or later, ALPN "http/1.1",
// no session resumption (so every connection is verified). Returns
// FailedPrecondition without a snapshot.
Result<SslCtxPtr> makeSpiffeServerContext(SnapshotProvider snapshots, PeerPolicy policy);

// Returns the reason the last peer was rejected on a context made by this
// module, or nullopt when none was.
std::optional<std::string> spiffeRejection(SSL_CTX* context);

// Returns the SPIFFE ID of the peer on an established connection, or nullopt
// when the peer sent no certificate with exactly one valid SPIFFE ID.
std::optional<SpiffeId> peerSpiffeId(SSL* ssl);

}  // namespace spike_bootstrap::spiffe
