// The SPIFFE mTLS server context of the fake peers, caller IDs and delayed starts.
#include "support/keeper/spiffe_peer.h"

#include <stdexcept>
#include <utility>

#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/spiffe/spiffe_tls.h"
#include "spike_bootstrap/spiffe/svid.h"

namespace spike_bootstrap::testing {

SslCtxPtr makeSpiffePeerContext(const TestCa& ca, const std::string& spiffeId) {
  TestCert cert = ca.issueSvid(spiffeId);
  Der keyDer = cert.keyDer();

  spiffe::SvidMaterial material;
  material.spiffeId = spiffeId;
  material.chainDer = cert.chainDer();
  material.keyDer = crypto::SecretBytes::copyOf(keyDer);
  material.bundleDer = ca.bundleDer();
  OPENSSL_cleanse(keyDer.data(), keyDer.size());

  auto snapshot = spiffe::makeX509Snapshot(material, {});
  if (!snapshot.ok()) {
    throw std::runtime_error("fake peer SVID " + spiffeId + ": " + snapshot.status().toString());
  }
  std::shared_ptr<const spiffe::X509Snapshot> fixed = std::move(snapshot).value();
  auto context =
      spiffe::makeSpiffeServerContext([fixed] { return fixed; }, spiffe::PeerPolicy::anyId());
  if (!context.ok()) {
    throw std::runtime_error("fake peer TLS context " + spiffeId + ": " +
                             context.status().toString());
  }
  return std::move(context).value();
}

std::string callerSpiffeId(const std::string& certificateDer) {
  if (certificateDer.empty()) {
    return "";
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(certificateDer.data());
  X509Ptr cert(d2i_X509(nullptr, &bytes, static_cast<long>(certificateDer.size())));
  if (!cert) {
    return "";
  }
  auto id = spiffe::spiffeIdFromCertificate(cert.get());
  return id.ok() ? id->toString() : "";
}

DelayedStart::~DelayedStart() { cancel(); }

void DelayedStart::schedule(std::chrono::milliseconds delay, std::function<void()> action) {
  thread_ = std::thread([this, delay, action = std::move(action)] {
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, delay, [this] { return cancelled_; })) {
      return;
    }
    lock.unlock();
    action();
  });
}

void DelayedStart::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace spike_bootstrap::testing
