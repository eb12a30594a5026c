// KeeperFanout: share i to keeper i, every keeper at once.
//
// One coroutine per keeper, each with its own retry budget. The run waits only
// until a threshold of keepers acknowledged, then goes on to verification
// while the others keep trying. Nexus rebuilds the root key from any
// threshold of shares and later re-syncs the keepers it could not reach.
//
// Thread rule: use only on the io_context thread that runs the coroutines.
#pragma once

#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/net/tls_profile.h"
#include "spike_bootstrap/spike/keeper_client.h"

namespace spike_bootstrap::app {

class KeeperFanout {
 public:
  // profile must outlive the fanout. beforeSend runs for every keeper after
  // its TLS handshake and before its share is written (write-ahead record).
  KeeperFanout(boost::asio::any_io_executor executor, std::vector<config::KeeperPeer> peers,
               const net::TlsClientProfile& profile, spike::KeeperRetrySettings settings,
               spike::BeforeShareSent beforeSend);
  KeeperFanout(const KeeperFanout&) = delete;
  KeeperFanout& operator=(const KeeperFanout&) = delete;

  // Starts one delivery per keeper; shares[i] goes to peers[i] and must carry
  // id i + 1. The shares are moved into the deliveries and wiped there.
  void start(std::vector<crypto::KeeperShare> shares);

  // Waits until threshold keepers acknowledged (true) or so many deliveries
  // failed that threshold can no longer be reached (false).
  boost::asio::awaitable<bool> waitForThreshold(int threshold);

  // Waits until every delivery has finished.
  boost::asio::awaitable<void> waitForAll();

  // Cancels every delivery still running.
  void cancel();

  int acknowledgedCount() const;
  // Keepers whose share may have reached them, finished or not.
  int possiblyDeliveredCount() const;
  int finishedCount() const;
  // Outcome per keeper, in peer order; meaningful once finished(i).
  const std::vector<spike::KeeperOutcome>& outcomes() const { return outcomes_; }
  bool finished(std::size_t index) const { return finished_[index]; }

 private:
  void onDeliveryFinished(std::size_t index, spike::KeeperOutcome outcome);
  boost::asio::awaitable<void> waitForChange();

  boost::asio::any_io_executor executor_;
  std::vector<config::KeeperPeer> peers_;
  const net::TlsClientProfile& profile_;
  spike::KeeperRetrySettings settings_;
  spike::BeforeShareSent beforeSend_;

  std::vector<spike::KeeperOutcome> outcomes_;
  std::vector<bool> finished_;
  std::vector<bool> possiblyDelivered_;
  std::vector<boost::asio::cancellation_signal> cancelSignals_;
  // Woken (cancelled) whenever a delivery finishes.
  boost::asio::steady_timer changed_;
};

}  // namespace spike_bootstrap::app
