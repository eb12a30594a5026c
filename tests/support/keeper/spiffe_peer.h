// Pieces the fake SPIKE peers (keeper and Nexus) share: the SPIFFE mTLS
// server context, reading the caller's SPIFFE ID from its certificate, and a
// start that happens after a delay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "spike_bootstrap/common/openssl.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

// Issues an X.509-SVID for spiffeId from ca and returns a server context that
// presents it and requires a client certificate that chains to ca's bundle.
// Any client ID is accepted at the TLS layer, so the fake can respond 401 the
// way SPIKE's servers do. Throws std::runtime_error when OpenSSL fails.
SslCtxPtr makeSpiffePeerContext(const TestCa& ca, const std::string& spiffeId);

// Returns the SPIFFE ID in the only URI SAN of a DER certificate, or "" when
// there is no certificate or it carries no valid SPIFFE ID.
std::string callerSpiffeId(const std::string& certificateDer);

// Runs an action once after a delay on a thread of its own. Destroying the
// object before the delay passed cancels the action and joins the thread.
class DelayedStart {
 public:
  DelayedStart() = default;
  ~DelayedStart();
  DelayedStart(const DelayedStart&) = delete;
  DelayedStart& operator=(const DelayedStart&) = delete;

  // Schedules action after delay. Replaces nothing: call it at most once.
  void schedule(std::chrono::milliseconds delay, std::function<void()> action);
  // Cancels a pending action and joins the thread; harmless when none is pending.
  void cancel();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
  std::thread thread_;
};

}  // namespace spike_bootstrap::testing
