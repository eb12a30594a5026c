// Runs one coroutine on a fresh io_context until it completes, for tests.
// An exception thrown inside the coroutine is rethrown to the test.
#pragma once

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace spike_bootstrap::testing {

template <typename T>
T runCoroutine(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr error, T value) {
    failure = error;
    if (!error) {
      result.emplace(std::move(value));
    }
  });
  io.run();
  io.restart();
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*result);
}

template <typename T>
T runCoroutine(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  return runCoroutine(io, std::move(task));
}

}  // namespace spike_bootstrap::testing
