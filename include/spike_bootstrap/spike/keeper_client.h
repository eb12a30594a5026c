// Delivery of one root-key share to one SPIKE Keeper, with retries.
//
// POST <keeper-url>/v1/store/contribute with {"shard":[32 ints]} over SPIFFE
// mTLS. The keeper returns 200 {} when it stored the share.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/net/tls_profile.h"

namespace spike_bootstrap::spike {

inline constexpr std::string_view kContributePath = "/v1/store/contribute";

// SPIKE's per-keeper retry settings.
struct KeeperRetrySettings {
  std::chrono::nanoseconds timeout{};  // budget for all attempts; 0 means no limit
  int maxAttempts = 5;
  std::chrono::nanoseconds initialInterval = std::chrono::seconds(2);
  std::chrono::nanoseconds maxInterval = std::chrono::seconds(30);
  // Deadline of one attempt, cut short by what is left of timeout.
  std::chrono::nanoseconds attemptTimeout = std::chrono::seconds(10);
};

// Builds the settings from the SPIKE_BOOTSTRAP_KEEPER_* variables.
KeeperRetrySettings keeperRetrySettings(const config::Config& config);

// Runs after the TLS handshake with the keeper and before the first byte of
// its share is written. A failure aborts the delivery with that Status.
using BeforeShareSent = std::function<boost::asio::awaitable<Status>(int keeperId)>;

struct KeeperOutcome {
  int keeperId = 0;
  std::string url;
  bool acknowledged = false;
  // True once a request body may have reached the keeper: the handshake
  // succeeded and writing began. Keepers never reached stay false.
  bool possiblyDelivered = false;
  int attempts = 0;
  Status lastError;  // OK when acknowledged
};

// Sends share to keeper peer, retrying refused connections, timeouts, 429 and
// 5xx responses with backoff; 400, 401 and a keeper whose SPIFFE ID is not a
// keeper's end the delivery at once. Logs every attempt. The share is wiped
// before the coroutine returns. profile must outlive the call.
boost::asio::awaitable<KeeperOutcome> deliverShare(config::KeeperPeer peer,
                                                   crypto::KeeperShare share,
                                                   const net::TlsClientProfile& profile,
                                                   KeeperRetrySettings settings,
                                                   BeforeShareSent beforeSend = {});

}  // namespace spike_bootstrap::spike
