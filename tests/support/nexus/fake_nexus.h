// FakeNexus: a SPIKE Nexus for tests, serving POST /v1/bootstrap/verify over
// HTTPS with SPIFFE mTLS on loopback.
//
// On each verify request it collects the shares stored by the fake keepers,
// rebuilds the root key from the first `threshold` of them, opens the probe
// with it and responds 200 {"hash":"<hex SHA-256 of the plaintext>"}. Like the
// real Nexus it responds 503 while it cannot rebuild the key yet (too few
// shares), 500 when the probe does not open under the rebuilt key, and 401 to
// callers other than bootstrap. Tests can make it late (connections refused
// until a delayed start, or 503 for a while), fail with 500 or send a wrong hash.
//
// Thread rule: every method may be called from any thread. Requests are
// handled on the server's own thread, which calls the ShareSource.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/shamir.h"
#include "support/https/test_https_server.h"
#include "support/keeper/spiffe_peer.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

inline constexpr const char* kVerifyPath = "/v1/bootstrap/verify";

// Returns the shares the keepers store now, as Nexus would fetch them.
using ShareSource = std::function<std::vector<crypto::KeeperShare>()>;

// How the fake responds to a verify request it could handle.
enum class NexusBehavior {
  kVerify,       // open the probe and send its hash
  kServerError,  // respond 500, as Nexus does when the probe does not open
  kWrongHash,    // respond 200 with the hash of other bytes
};

struct FakeNexusOptions {
  // SPIFFE ID of Nexus's own SVID. Empty means spiffe://<trust domain>/spike/nexus.
  std::string spiffeId;
  // Trust domains of the accepted bootstrap caller. Empty means the CA's.
  std::vector<std::string> callerTrustDomains;
  // Loopback address to bind: "127.0.0.1" or "::1".
  std::string address = "127.0.0.1";
};

// One verify request and the fake's response.
struct VerifyRecord {
  std::string callerId;  // SPIFFE ID of the client certificate, "" without one
  std::string target;
  int status = 0;
  std::string hash;  // hash sent with a 200, "" otherwise
  // Why the fake did not verify, such as "only 1 of 2 shares", "" after a 200.
  std::string reason;
};

class FakeNexus {
 public:
  // Issues Nexus's SVID from ca and binds a port. Nothing listens until
  // start(). Throws std::runtime_error when the SVID or TLS context fails.
  FakeNexus(const TestCa& ca, ShareSource shares, int threshold, FakeNexusOptions options = {});
  // Stops the server and cancels a pending startAfter().
  ~FakeNexus();
  FakeNexus(const FakeNexus&) = delete;
  FakeNexus& operator=(const FakeNexus&) = delete;

  // Starts listening now, or after delay from a background thread; until
  // then connections are refused.
  void start();
  void startAfter(std::chrono::milliseconds delay);
  // Closes the listener and every open connection; Nexus stays down.
  void stop();

  const std::string& spiffeId() const { return spiffeId_; }
  // "https://127.0.0.1:<port>", the value for SPIKE_NEXUS_API_URL.
  std::string url() const;

  void setBehavior(NexusBehavior behavior);
  // Responds 503 to every request until duration has passed from now.
  void unavailableFor(std::chrono::milliseconds duration);
  // Responds 503 to the next count requests.
  void unavailableNext(int count);
  // Waits delay before every reply.
  void setDelay(std::chrono::milliseconds delay);

  std::vector<VerifyRecord> requests() const;
  std::size_t requestCount() const;
  // Returns the number of 200 responses carrying the hash of the opened probe.
  int verifiedCount() const;
  // Waits until a response carried the right hash; false on timeout.
  bool waitForVerified(std::chrono::milliseconds timeout) const;

  // Errors the server hit outside a request, such as a handler exception.
  std::vector<std::string> serverErrors() const;

 private:
  ServerReply handle(const ReceivedRequest& request);
  ServerReply verify(const ReceivedRequest& request, VerifyRecord& record);
  bool takeUnavailable();

  ShareSource shares_;
  int threshold_;
  FakeNexusOptions options_;
  std::string spiffeId_;
  std::vector<std::string> callerTrustDomains_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  NexusBehavior behavior_ = NexusBehavior::kVerify;
  std::chrono::steady_clock::time_point unavailableUntil_{};
  int unavailableCount_ = 0;
  std::chrono::milliseconds delay_{0};
  std::vector<VerifyRecord> requests_;
  int verified_ = 0;

  DelayedStart starter_;
  // Declared last so it stops first: its handler uses the members above.
  std::unique_ptr<TestHttpsServer> server_;
};

}  // namespace spike_bootstrap::testing
