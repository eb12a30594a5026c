// Parallel share delivery with an early "threshold reached" wake-up.
#include "spike_bootstrap/app/keeper_fanout.h"

#include <algorithm>
#include <exception>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace spike_bootstrap::app {

KeeperFanout::KeeperFanout(boost::asio::any_io_executor executor,
                           std::vector<config::KeeperPeer> peers,
                           const net::TlsClientProfile& profile,
                           spike::KeeperRetrySettings settings, spike::BeforeShareSent beforeSend)
    : executor_(executor),
      peers_(std::move(peers)),
      profile_(profile),
      settings_(settings),
      beforeSend_(std::move(beforeSend)),
      outcomes_(peers_.size()),
      finished_(peers_.size(), false),
      possiblyDelivered_(peers_.size(), false),
      cancelSignals_(peers_.size()),
      changed_(executor) {}

void KeeperFanout::start(std::vector<crypto::KeeperShare> shares) {
  for (std::size_t index = 0; index < peers_.size(); ++index) {
    // Count the keeper the moment its share may leave, not when it finishes,
    // so a cancelled run still reports every keeper that may hold a share.
    spike::BeforeShareSent hook = [this, index](int keeperId) -> boost::asio::awaitable<Status> {
      possiblyDelivered_[index] = true;
      if (beforeSend_) {
        co_return co_await beforeSend_(keeperId);
      }
      co_return Status();
    };
    auto delivery = spike::deliverShare(peers_[index], std::move(shares[index]), profile_,
                                        settings_, std::move(hook));
    boost::asio::co_spawn(
        executor_, std::move(delivery),
        boost::asio::bind_cancellation_slot(
            cancelSignals_[index].slot(),
            [this, index](std::exception_ptr error, spike::KeeperOutcome outcome) {
              if (error) {
                outcome.keeperId = peers_[index].id;
                outcome.url = peers_[index].url;
                outcome.lastError = Status(StatusCode::kCancelled, "delivery stopped");
              }
              onDeliveryFinished(index, std::move(outcome));
            }));
  }
}

void KeeperFanout::onDeliveryFinished(std::size_t index, spike::KeeperOutcome outcome) {
  if (outcome.possiblyDelivered) {
    possiblyDelivered_[index] = true;
  }
  outcomes_[index] = std::move(outcome);
  finished_[index] = true;
  changed_.cancel();
}

boost::asio::awaitable<void> KeeperFanout::waitForChange() {
  changed_.expires_at(boost::asio::steady_timer::time_point::max());
  co_await changed_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

boost::asio::awaitable<bool> KeeperFanout::waitForThreshold(int threshold) {
  while (true) {
    int acknowledged = acknowledgedCount();
    if (acknowledged >= threshold) {
      co_return true;
    }
    int stillRunning = static_cast<int>(peers_.size()) - finishedCount();
    if (acknowledged + stillRunning < threshold) {
      co_return false;
    }
    co_await waitForChange();
  }
}

boost::asio::awaitable<void> KeeperFanout::waitForAll() {
  while (finishedCount() < static_cast<int>(peers_.size())) {
    co_await waitForChange();
  }
}

void KeeperFanout::cancel() {
  for (std::size_t index = 0; index < peers_.size(); ++index) {
    if (!finished_[index]) {
      cancelSignals_[index].emit(boost::asio::cancellation_type::terminal);
    }
  }
}

int KeeperFanout::acknowledgedCount() const {
  int count = 0;
  for (std::size_t index = 0; index < peers_.size(); ++index) {
    if (finished_[index] && outcomes_[index].acknowledged) {
      ++count;
    }
  }
  return count;
}

int KeeperFanout::possiblyDeliveredCount() const {
  return static_cast<int>(std::count(possiblyDelivered_.begin(), possiblyDelivered_.end(), true));
}

int KeeperFanout::finishedCount() const {
  return static_cast<int>(std::count(finished_.begin(), finished_.end(), true));
}

}  // namespace spike_bootstrap::app
