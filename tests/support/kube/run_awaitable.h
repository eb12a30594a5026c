// Runs one coroutine to completion on a fresh io_context, for tests that call
// asynchronous client code from a synchronous Catch2 test case.
#pragma once

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace spike_bootstrap::testing {

namespace detail {

// Stores the coroutine's result, so T needs no default constructor (co_spawn's
// completion handler for awaitable<T> would need one).
template <typename T>
boost::asio::awaitable<void> storeResult(boost::asio::awaitable<T> coroutine,
                                         std::optional<T>& result) {
  result.emplace(co_await std::move(coroutine));
}

}  // namespace detail

// Returns what the coroutine returned, or rethrows what it threw.
template <typename T>
T runAwaitable(boost::asio::awaitable<T> coroutine) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, detail::storeResult(std::move(coroutine), result),
                        [&](std::exception_ptr error) { failure = error; });
  io.run();
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*result);
}

// Runs the coroutine on io until it finishes, then stops io, leaving work it
// spawned (such as a lease renewal) suspended for the next call. Returns
// what the coroutine returned, or rethrows what it threw.
template <typename T>
T runAwaitable(boost::asio::io_context& io, boost::asio::awaitable<T> coroutine) {
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, detail::storeResult(std::move(coroutine), result),
                        [&](std::exception_ptr error) {
                          failure = error;
                          io.stop();
                        });
  io.restart();
  io.run();
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*result);
}

}  // namespace spike_bootstrap::testing
