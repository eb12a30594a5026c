// FakeKeeper: a SPIKE Keeper for tests, serving POST /v1/store/contribute over
// HTTPS with SPIFFE mTLS on loopback.
//
// Like a real keeper it presents its own X.509-SVID, accepts any client whose
// chain verifies against the trust domain's bundle, and then responds 401 to
// callers whose ID is neither bootstrap nor nexus, 400 to a body a keeper
// rejects, and 200 {} after storing the shard. Tests inject faults: a delay
// before every reply, 503 or a dropped or hung connection for the first k
// requests or for all of them, a late start and a stop in the middle of a run.
//
// Thread rule: every method may be called from any thread. Requests are
// handled on the server's own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "support/https/test_https_server.h"
#include "support/keeper/spiffe_peer.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

inline constexpr const char* kContributePath = "/v1/store/contribute";

// What a faulty keeper does with a request instead of handling it.
enum class KeeperFault {
  kUnavailable,  // respond 503, as a keeper behind a proxy that is not ready
  kClose,        // close the connection without a reply
  kHang,         // keep the connection open and never reply
};

struct FakeKeeperOptions {
  // Keeper ID: entry `id` (1-based) of SPIKE_NEXUS_KEEPER_PEERS.
  int id = 1;
  // SPIFFE ID of the keeper's own SVID. Empty means
  // spiffe://<trust domain>/spike/keeper/<id>.
  std::string spiffeId;
  // Trust domains of accepted callers (bootstrap or nexus IDs). Empty means
  // the trust domain of the CA.
  std::vector<std::string> callerTrustDomains;
  // Loopback address to bind: "127.0.0.1" or "::1".
  std::string address = "127.0.0.1";
};

// One request the keeper handled (faults included), in arrival order.
struct KeeperRequestRecord {
  std::string callerId;  // SPIFFE ID of the client certificate, "" without one
  std::string method;
  std::string target;
  // Status sent, or 0 when a fault closed or hung the connection.
  int status = 0;
};

class FakeKeeper {
 public:
  // Issues the keeper's SVID from ca and binds a port on options.address.
  // Nothing listens until start(). Throws std::runtime_error when the SVID or
  // the TLS context cannot be made.
  FakeKeeper(const TestCa& ca, FakeKeeperOptions options);
  // Stops the server and joins a pending startAfter().
  ~FakeKeeper();
  FakeKeeper(const FakeKeeper&) = delete;
  FakeKeeper& operator=(const FakeKeeper&) = delete;

  // Starts listening now. Connections before that are refused.
  void start();
  // Starts listening after delay, from a background thread. Connections are
  // refused until then.
  void startAfter(std::chrono::milliseconds delay);
  // Closes the listener and every open connection; the keeper stays down.
  void stop();

  int id() const { return options_.id; }
  const std::string& spiffeId() const { return spiffeId_; }
  // Base URL "https://127.0.0.1:<port>", the value for SPIKE_NEXUS_KEEPER_PEERS.
  std::string url() const;

  // Waits delay before every reply, faults included.
  void setDelay(std::chrono::milliseconds delay);
  // Applies fault to the next count requests, then handles requests normally.
  void failNext(int count, KeeperFault fault);
  // Applies fault to every request from now on.
  void failAlways(KeeperFault fault);
  // Removes faults and the delay.
  void clearFaults();

  // Returns a copy of the last shard stored, or nullopt before the first one.
  std::optional<crypto::SecretBytes> shard() const;
  // Returns the stored shard as this keeper's share (its id and value).
  std::optional<crypto::KeeperShare> share() const;
  // Returns the lower-case hex SHA-256 of the stored shard, for logs and demos
  // that must not show the value, or "" before the first one.
  std::string shardFingerprint() const;
  // Returns the number of contributions that got 200.
  int acceptedCount() const;
  std::vector<KeeperRequestRecord> requests() const;
  std::size_t requestCount() const;
  // TLS connections accepted and those whose handshake failed (such as a
  // client rejecting this keeper's ID).
  std::size_t connectionCount() const;
  std::size_t failedHandshakeCount() const;

  // Wait until a shard was stored, until count requests arrived, or until
  // count TLS handshakes finished (successful or not); false on timeout.
  bool waitForShard(std::chrono::milliseconds timeout) const;
  bool waitForRequests(std::size_t count, std::chrono::milliseconds timeout) const;
  bool waitForHandshakes(std::size_t count, std::chrono::milliseconds timeout) const;

  // Errors the server hit outside a request, such as a handler exception.
  std::vector<std::string> serverErrors() const;

 private:
  struct PendingFault {
    KeeperFault fault = KeeperFault::kUnavailable;
    int remaining = 0;  // -1 for every request
  };

  ServerReply handle(const ReceivedRequest& request);
  ServerReply handleContribute(const ReceivedRequest& request, const std::string& callerId);
  std::optional<KeeperFault> takeFault();
  void record(const ReceivedRequest& request, const std::string& callerId, int status);

  FakeKeeperOptions options_;
  std::string spiffeId_;
  std::vector<std::string> callerTrustDomains_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::chrono::milliseconds delay_{0};
  std::optional<PendingFault> fault_;
  std::optional<crypto::SecretBytes> shard_;
  int accepted_ = 0;
  std::vector<KeeperRequestRecord> requests_;

  DelayedStart starter_;

  // Declared last so it stops first: its handler uses the members above.
  std::unique_ptr<TestHttpsServer> server_;
};

}  // namespace spike_bootstrap::testing
