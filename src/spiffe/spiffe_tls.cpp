// SPIFFE mTLS contexts and the peer verification callback they share.
#include "spike_bootstrap/spiffe/spiffe_tls.h"

#include <cstring>
#include <mutex>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace spike_bootstrap::spiffe {
namespace {

// ALPN wire format: a length byte, then the protocol name. SPIKE's servers
// are Go net/http, and we speak HTTP/1.1 only.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Verification state of one SSL_CTX. It lives in the context's ex_data and
// dies with the context.
class PeerVerifier {
 public:
  PeerVerifier(SnapshotProvider snapshots, PeerPolicy policy, std::string peerName)
      : snapshots_(std::move(snapshots)),
        policy_(std::move(policy)),
        peerName_(std::move(peerName)) {}

  // Runs the verification steps on the peer's leaf and the intermediates it
  // sent. On failure sets the X509_V_ERR code in storeContext and returns 0.
  int verify(X509_STORE_CTX* storeContext);

  std::optional<std::string> rejection() const {
    std::lock_guard lock(mutex_);
    return rejection_;
  }

 private:
  int reject(X509_STORE_CTX* storeContext, int error, std::string reason) {
    X509_STORE_CTX_set_error(storeContext, error);
    std::lock_guard lock(mutex_);
    rejection_ = std::move(reason);
    return 0;
  }

  SnapshotProvider snapshots_;
  PeerPolicy policy_;
  std::string peerName_;  // "peer https://host:port" or "client"
  mutable std::mutex mutex_;
  std::optional<std::string> rejection_;
};

// Verifies leaf and the untrusted intermediates against exactly the
// authorities of bundle. Every bundle certificate is a trust anchor, as in
// Go's crypto/x509, so a bundle may also hold intermediate CAs.
int verifyChain(X509* leaf, STACK_OF(X509) * untrusted, const TrustBundle& bundle) {
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!store || !context) {
    return X509_V_ERR_OUT_OF_MEM;
  }
  for (const X509Ptr& authority : bundle.authorities) {
    X509_STORE_add_cert(store.get(), authority.get());
  }
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_STORE_CTX_init(context.get(), store.get(), leaf, untrusted) != 1) {
    return X509_V_ERR_UNSPECIFIED;
  }
  int result = X509_verify_cert(context.get());
  int error = X509_STORE_CTX_get_error(context.get());
  ERR_clear_error();
  if (result == 1) {
    return X509_V_OK;
  }
  return error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error;
}

int PeerVerifier::verify(X509_STORE_CTX* storeContext) {
  X509* leaf = X509_STORE_CTX_get0_cert(storeContext);
  if (leaf == nullptr) {
    return reject(storeContext, X509_V_ERR_UNSPECIFIED, peerName_ + " sent no certificate");
  }
  auto id = spiffeIdFromCertificate(leaf);
  if (!id.ok()) {
    return reject(storeContext, X509_V_ERR_APPLICATION_VERIFICATION,
                  peerName_ + " presented no SPIFFE ID: " + id.status().message());
  }
  const std::string presented = peerName_ + " presented " + id->toString();

  std::shared_ptr<const X509Snapshot> snapshot = snapshots_();
  const TrustBundle* bundle = snapshot ? snapshot->bundleFor(id->trustDomain) : nullptr;
  if (bundle == nullptr) {
    return reject(storeContext, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                  presented + ", but there is no trust bundle for trust domain " + id->trustDomain +
                      " (own or federated)");
  }

  int chainError = verifyChain(leaf, X509_STORE_CTX_get0_untrusted(storeContext), *bundle);
  if (chainError != X509_V_OK) {
    return reject(storeContext, chainError,
                  presented + ", whose certificate chain does not verify against the bundle of " +
                      id->trustDomain + ": " + X509_verify_cert_error_string(chainError));
  }

  if (auto leafCheck = checkSvidLeaf(leaf); !leafCheck.ok()) {
    return reject(storeContext, X509_V_ERR_APPLICATION_VERIFICATION,
                  presented + ", which is not a valid X.509-SVID: " + leafCheck.status().message());
  }
  if (!policy_.accepts(*id)) {
    return reject(storeContext, X509_V_ERR_APPLICATION_VERIFICATION,
                  presented + ", expected " + policy_.describe());
  }
  return 1;
}

void freeVerifier(void* /*parent*/, void* pointer, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                  long /*argl*/, void* /*argp*/) {
  delete static_cast<PeerVerifier*>(pointer);
}

// Our ex_data slot on SSL_CTX. Slot 0 (SSL_CTX_get_app_data) stays free,
// because asio::ssl::context uses it for its own verify callback.
int verifierIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeVerifier);
  return index;
}

PeerVerifier* verifierOf(SSL_CTX* context) {
  return static_cast<PeerVerifier*>(SSL_CTX_get_ex_data(context, verifierIndex()));
}

int verifyCallback(X509_STORE_CTX* storeContext, void* argument) {
  return static_cast<PeerVerifier*>(argument)->verify(storeContext);
}

Status opensslFailure(std::string_view step) {
  return Status(StatusCode::kInternal, std::string(step) + ": " + drainOpensslErrors());
}

// Loads our SVID, sets TLS 1.2+ and attaches the verifier. The verifier is
// owned by the context from here on.
Status configureContext(SSL_CTX* context, const X509Svid& svid,
                        std::unique_ptr<PeerVerifier> verifier) {
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
    return opensslFailure("set minimum TLS version");
  }
  if (SSL_CTX_use_certificate(context, svid.leaf()) != 1) {
    return opensslFailure("load SVID certificate " + svid.id.toString());
  }
  for (std::size_t i = 1; i < svid.chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(context, svid.chain[i].get()) != 1) {
      return opensslFailure("load SVID intermediate of " + svid.id.toString());
    }
  }
  if (SSL_CTX_use_PrivateKey(context, svid.key.get()) != 1 ||
      SSL_CTX_check_private_key(context) != 1) {
    return opensslFailure("load SVID private key of " + svid.id.toString());
  }

  PeerVerifier* raw = verifier.get();
  if (SSL_CTX_set_ex_data(context, verifierIndex(), raw) != 1) {
    return opensslFailure("attach peer verifier");
  }
  verifier.release();
  SSL_CTX_set_cert_verify_callback(context, verifyCallback, raw);
  return okStatus();
}

int selectHttp11(SSL* /*ssl*/, const unsigned char** out, unsigned char* outLength,
                 const unsigned char* offered, unsigned int offeredLength, void* /*argument*/) {
  unsigned char* selected = nullptr;
  int result = SSL_select_next_proto(&selected, outLength, kAlpnHttp11, sizeof(kAlpnHttp11),
                                     offered, offeredLength);
  if (result != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

PeerPolicy::PeerPolicy(std::vector<RolePolicy> roles) : roles_(std::move(roles)) {}

PeerPolicy::PeerPolicy(Role role, std::vector<std::string> trustDomains)
    : roles_{RolePolicy(role, std::move(trustDomains))} {}

PeerPolicy PeerPolicy::anyId() {
  PeerPolicy policy;
  policy.anyId_ = true;
  return policy;
}

bool PeerPolicy::accepts(const SpiffeId& id) const {
  if (anyId_) {
    return true;
  }
  for (const RolePolicy& role : roles_) {
    if (role.accepts(id)) {
      return true;
    }
  }
  return false;
}

std::string PeerPolicy::describe() const {
  if (anyId_) {
    return "any SPIFFE ID";
  }
  std::string text;
  for (const RolePolicy& role : roles_) {
    if (!text.empty()) {
      text += " or ";
    }
    text += role.describe();
  }
  return text.empty() ? "no ID (no role configured)" : text;
}

SpiffeTlsProfile::SpiffeTlsProfile(SnapshotProvider snapshots, PeerPolicy policy)
    : snapshots_(std::move(snapshots)), policy_(std::move(policy)) {}

SpiffeTlsProfile::SpiffeTlsProfile(SnapshotProvider snapshots, Role peerRole,
                                   std::vector<std::string> peerTrustDomains)
    : SpiffeTlsProfile(std::move(snapshots), PeerPolicy(peerRole, std::move(peerTrustDomains))) {}

Result<SslCtxPtr> SpiffeTlsProfile::makeContext(const net::Url& url) const {
  std::shared_ptr<const X509Snapshot> snapshot = snapshots_();
  if (snapshot == nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "no X.509-SVID from the Workload API yet, cannot dial " + url.toString());
  }
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) {
    return opensslFailure("create TLS client context");
  }
  // The whole connection uses one snapshot: the SVID it presents and the
  // bundles it verifies the server with.
  auto verifier = std::make_unique<PeerVerifier>([snapshot] { return snapshot; }, policy_,
                                                 "peer " + url.toString());
  if (Status status = configureContext(context.get(), snapshot->svid, std::move(verifier));
      !status.ok()) {
    return status;
  }
  // SSL_CTX_set_alpn_protos returns 0 on success, unlike most of OpenSSL.
  if (SSL_CTX_set_alpn_protos(context.get(), kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return opensslFailure("set ALPN");
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  return context;
}

std::optional<std::string> SpiffeTlsProfile::peerRejection(SSL_CTX* context) const {
  return spiffeRejection(context);
}

Result<SslCtxPtr> makeSpiffeServerContext(SnapshotProvider snapshots, PeerPolicy policy) {
  std::shared_ptr<const X509Snapshot> snapshot = snapshots();
  if (snapshot == nullptr) {
    return Status(StatusCode::kFailedPrecondition, "no X.509-SVID to serve with");
  }
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context) {
    return opensslFailure("create TLS server context");
  }
  auto verifier = std::make_unique<PeerVerifier>(std::move(snapshots), std::move(policy), "client");
  if (Status status = configureContext(context.get(), snapshot->svid, std::move(verifier));
      !status.ok()) {
    return status;
  }
  SSL_CTX_set_alpn_select_cb(context.get(), selectHttp11, nullptr);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // A resumed session skips certificate verification, so allow none.
  SSL_CTX_set_session_cache_mode(context.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(context.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(context.get(), 0);
  return context;
}

std::optional<std::string> spiffeRejection(SSL_CTX* context) {
  PeerVerifier* verifier = context ? verifierOf(context) : nullptr;
  if (verifier == nullptr) {
    return std::nullopt;
  }
  return verifier->rejection();
}

std::optional<SpiffeId> peerSpiffeId(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return std::nullopt;
  }
  auto id = spiffeIdFromCertificate(cert);
  if (!id.ok()) {
    return std::nullopt;
  }
  return std::move(id).value();
}

}  // namespace spike_bootstrap::spiffe
