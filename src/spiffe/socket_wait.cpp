// Workload API endpoint parsing and the wait for its socket.
#include "spike_bootstrap/spiffe/socket_wait.h"

#include <sys/un.h>

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "spike_bootstrap/common/log.h"

namespace spike_bootstrap::spiffe {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Short enough that a socket which appears is used at once, long enough that
// the probes cost nothing measurable.
constexpr auto kPollInterval = std::chrono::milliseconds(100);

const logging::Logger& logger() {
  static const logging::Logger instance("spiffe");
  return instance;
}

// Connects to the socket and closes the connection again.
asio::awaitable<boost::system::error_code> probe(
    const asio::local::stream_protocol::endpoint& endpoint) {
  asio::local::stream_protocol::socket socket(co_await asio::this_coro::executor);
  auto [error] = co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  socket.close(ignored);
  co_return error;
}

std::int64_t millisecondsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

Result<std::string> socketPathFromEndpoint(std::string_view endpoint) {
  std::string_view path = endpoint;
  if (path.starts_with("unix://")) {
    path.remove_prefix(7);
    if (!path.starts_with('/')) {
      return Status(StatusCode::kInvalidArgument,
                    "Workload API endpoint \"" + std::string(endpoint) +
                        "\" has a host part; expected unix:///absolute/path");
    }
  } else if (path.starts_with("unix:")) {
    path.remove_prefix(5);
  }
  if (!path.starts_with('/')) {
    return Status(StatusCode::kInvalidArgument,
                  "Workload API endpoint \"" + std::string(endpoint) +
                      "\" is not a Unix socket; expected unix:///absolute/path or /absolute/path");
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status(StatusCode::kInvalidArgument,
                  "Workload API socket path \"" + std::string(path) + "\" is longer than " +
                      std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  }
  return std::string(path);
}

asio::awaitable<Status> waitForSocket(std::string path, Clock::time_point deadline,
                                      Clock::duration reportInterval) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    co_return Status(StatusCode::kInvalidArgument,
                     "Workload API socket path \"" + path + "\" is too long");
  }
  // Cancellation must come back as a Cancelled status, not as an exception
  // thrown at the next co_await of the probe.
  co_await asio::this_coro::throw_if_cancelled(false);
  const asio::local::stream_protocol::endpoint endpoint(path);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const Clock::time_point started = Clock::now();
  Clock::time_point nextReport = started + reportInterval;
  bool announced = false;

  for (;;) {
    auto cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none) {
      co_return Status(StatusCode::kCancelled,
                       "wait for Workload API socket " + path + " cancelled");
    }
    boost::system::error_code error = co_await probe(endpoint);
    if (!error) {
      if (announced) {
        logger().info("Workload API socket accepts connections",
                      {{"socket", path}, {"waited_ms", millisecondsSince(started)}});
      }
      co_return okStatus();
    }
    if (error == asio::error::operation_aborted) {
      co_return Status(StatusCode::kCancelled,
                       "wait for Workload API socket " + path + " cancelled");
    }

    const Clock::time_point now = Clock::now();
    if (!announced) {
      logger().info("waiting for the Workload API socket",
                    {{"socket", path}, {"reason", error.message()}});
      announced = true;
    } else if (now >= nextReport) {
      logger().info("still waiting for the Workload API socket",
                    {{"socket", path},
                     {"waited_ms", millisecondsSince(started)},
                     {"reason", error.message()}});
      nextReport += reportInterval;
    }
    if (now >= deadline) {
      co_return Status(StatusCode::kDeadlineExceeded,
                       "Workload API socket " + path + " did not accept connections within " +
                           std::to_string(millisecondsSince(started)) +
                           " ms (last error: " + error.message() +
                           "); check that the SPIRE agent runs and SPIFFE_ENDPOINT_SOCKET names "
                           "its socket");
    }

    timer.expires_at(std::min(now + kPollInterval, deadline));
    auto [waitError] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waitError == asio::error::operation_aborted) {
      co_return Status(StatusCode::kCancelled,
                       "wait for Workload API socket " + path + " cancelled");
    }
  }
}

}  // namespace spike_bootstrap::spiffe
