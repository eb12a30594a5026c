// Cancellable sleep on an asio steady timer.
#include "spike_bootstrap/common/sleep.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace spike_bootstrap {

boost::asio::awaitable<Status> sleepFor(std::chrono::nanoseconds delay) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(executor);
  timer.expires_after(delay);
  auto [error] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (error) {
    co_return Status(StatusCode::kCancelled, "wait cancelled");
  }
  co_return Status();
}

}  // namespace spike_bootstrap
