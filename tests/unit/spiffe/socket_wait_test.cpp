// The wait for the Workload API socket, on real Unix sockets: absent, bound
// but not listening, late, and never there.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/spiffe/socket_wait.h"
#include "support/workload_api/run_coroutine.h"
#include "support/workload_api/temp_dir.h"

namespace spike_bootstrap::spiffe {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A Unix stream socket bound to a path. It accepts connections only after
// listen(), so a test can hold a socket file that refuses connections.
class UnixSocket {
 public:
  explicit UnixSocket(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~UnixSocket() { ::close(fd_); }

  void listen() { REQUIRE(::listen(fd_, 4) == 0); }

 private:
  int fd_;
};

int countOf(const std::string& text, const std::string& part) {
  int count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

std::int64_t elapsedMs(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("socket wait returns at once when listening", "[spiffe][socket]") {
  testing::TempDir dir;
  UnixSocket socket(dir.file("agent.sock"));
  socket.listen();

  auto start = Clock::now();
  Status status = testing::runCoroutine(waitForSocket(dir.file("agent.sock"), Clock::now() + 5s));
  CHECK(status.ok());
  CHECK(elapsedMs(start) < 500);
}

TEST_CASE("socket wait waits for late socket", "[spiffe][socket]") {
  testing::TempDir dir;
  const std::string path = dir.file("agent.sock");
  std::unique_ptr<UnixSocket> socket;
  std::thread creator([&] {
    std::this_thread::sleep_for(400ms);
    socket = std::make_unique<UnixSocket>(path);
    socket->listen();
  });

  auto start = Clock::now();
  Status status = testing::runCoroutine(waitForSocket(path, Clock::now() + 5s));
  creator.join();
  CHECK(status.ok());
  CHECK(elapsedMs(start) >= 400);
  CHECK(elapsedMs(start) < 2000);
}

TEST_CASE("socket wait needs a listening socket", "[spiffe][socket]") {
  // Given a socket file that exists but refuses connections,
  testing::TempDir dir;
  const std::string path = dir.file("agent.sock");
  UnixSocket socket(path);
  REQUIRE(::access(path.c_str(), F_OK) == 0);

  // when it starts listening only 400 ms later,
  std::thread listener([&] {
    std::this_thread::sleep_for(400ms);
    socket.listen();
  });
  auto start = Clock::now();
  Status status = testing::runCoroutine(waitForSocket(path, Clock::now() + 5s));
  listener.join();

  // then the wait lasts until then.
  CHECK(status.ok());
  CHECK(elapsedMs(start) >= 400);
}

TEST_CASE("socket wait times out naming the socket", "[spiffe][socket]") {
  testing::TempDir dir;
  const std::string path = dir.file("missing.sock");

  auto start = Clock::now();
  Status status = testing::runCoroutine(waitForSocket(path, Clock::now() + 300ms));
  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(status.message(), Catch::Contains(path));
  CHECK_THAT(status.message(), Catch::Contains("No such file or directory"));
  CHECK(elapsedMs(start) >= 300);
  CHECK(elapsedMs(start) < 1500);
}

TEST_CASE("socket wait logs start and progress", "[spiffe][socket]") {
  testing::TempDir dir;
  std::ostringstream out;
  logging::setSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));

  Status status =
      testing::runCoroutine(waitForSocket(dir.file("missing.sock"), Clock::now() + 1100ms, 500ms));
  logging::setSink(std::make_shared<spdlog::sinks::stderr_sink_mt>());

  // One line when the wait starts, then one at 500 ms and one at 1000 ms.
  const std::string log = out.str();
  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK(countOf(log, "waiting for the Workload API socket") == 3);
  CHECK(countOf(log, "still waiting for the Workload API socket") == 2);
  CHECK_THAT(log, Catch::Contains("waited_ms="));
  CHECK_THAT(log, Catch::Contains(dir.file("missing.sock")));
}

TEST_CASE("socket wait reports refused connections", "[spiffe][socket]") {
  testing::TempDir dir;
  UnixSocket socket(dir.file("agent.sock"));

  Status status =
      testing::runCoroutine(waitForSocket(dir.file("agent.sock"), Clock::now() + 200ms));
  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(status.message(), Catch::Contains("Connection refused"));
}

TEST_CASE("socket wait stops when cancelled", "[spiffe][socket]") {
  testing::TempDir dir;
  boost::asio::io_context io;
  boost::asio::cancellation_signal cancel;
  boost::asio::steady_timer timer(io, 200ms);
  timer.async_wait(
      [&](boost::system::error_code) { cancel.emit(boost::asio::cancellation_type::terminal); });

  std::optional<Status> result;
  auto start = Clock::now();
  boost::asio::co_spawn(io, waitForSocket(dir.file("never.sock"), Clock::now() + 10s),
                        boost::asio::bind_cancellation_slot(
                            cancel.slot(), [&](std::exception_ptr error, Status status) {
                              REQUIRE_FALSE(error);
                              result = status;
                            }));
  io.run();

  REQUIRE(result.has_value());
  CHECK(result->code() == StatusCode::kCancelled);
  CHECK(elapsedMs(start) < 1000);
}

TEST_CASE("endpoint accepts unix URIs and paths", "[spiffe][socket]") {
  CHECK(*socketPathFromEndpoint("unix:///tmp/spire-agent/public/api.sock") ==
        "/tmp/spire-agent/public/api.sock");
  CHECK(*socketPathFromEndpoint("unix:/run/agent.sock") == "/run/agent.sock");
  CHECK(*socketPathFromEndpoint("/run/agent.sock") == "/run/agent.sock");
}

TEST_CASE("endpoint rejects other forms", "[spiffe][socket]") {
  const std::string tooLong = "/" + std::string(120, 'a');
  for (const std::string& endpoint :
       {std::string(""), std::string("tcp://127.0.0.1:8081"), std::string("unix://host/agent.sock"),
        std::string("relative/agent.sock"), std::string("unix:relative.sock"), tooLong}) {
    INFO(endpoint);
    auto path = socketPathFromEndpoint(endpoint);
    CHECK_FALSE(path.ok());
    CHECK(path.status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace spike_bootstrap::spiffe
