// Tests of sendRequest, CaTlsProfile and statusFromHttp against the HTTPS test
// server on loopback, with certificates from the test PKI.
#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "spike_bootstrap/net/https_client.h"
#include "spike_bootstrap/net/tls_profile.h"
#include "support/https/test_https_server.h"
#include "support/pki/test_pki.h"

namespace asio = boost::asio;
using Catch::Contains;
using spike_bootstrap::Result;
using spike_bootstrap::SslCtxPtr;
using spike_bootstrap::Status;
using spike_bootstrap::StatusCode;
using spike_bootstrap::net::CaTlsProfile;
using spike_bootstrap::net::HttpRequest;
using spike_bootstrap::net::HttpResponse;
using spike_bootstrap::net::joinPath;
using spike_bootstrap::net::parseHttpsUrl;
using spike_bootstrap::net::RequestOptions;
using spike_bootstrap::net::sendRequest;
using spike_bootstrap::net::statusFromHttp;
using spike_bootstrap::net::TlsClientProfile;
using spike_bootstrap::net::Url;
using spike_bootstrap::testing::caOptions;
using spike_bootstrap::testing::CertOptions;
using spike_bootstrap::testing::closedPort;
using spike_bootstrap::testing::ipv6LoopbackAvailable;
using spike_bootstrap::testing::makeServerContext;
using spike_bootstrap::testing::ReceivedRequest;
using spike_bootstrap::testing::ServerReply;
using spike_bootstrap::testing::TestCa;
using spike_bootstrap::testing::TestCert;
using spike_bootstrap::testing::TestHttpsServer;
using spike_bootstrap::testing::TestHttpsServerOptions;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// A CA and a server certificate valid for localhost, 127.0.0.1 and ::1.
struct Pki {
  TestCa ca = TestCa::root(caOptions("net test root"));
  TestCert server = ca.issue(serverOptions({"localhost"}, {"127.0.0.1", "::1"}));

  static CertOptions serverOptions(std::vector<std::string> dnsNames,
                                   std::vector<std::string> ipAddresses) {
    CertOptions options;
    options.commonName = "net test server";
    options.dnsNames = std::move(dnsNames);
    options.ipAddresses = std::move(ipAddresses);
    options.keyUsage = {"digitalSignature"};
    options.extendedKeyUsage = {"serverAuth"};
    return options;
  }
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

ServerReply okReply(const ReceivedRequest&) { return ServerReply::json(200, "{}"); }

Url urlOf(const std::string& text) {
  auto url = parseHttpsUrl(text);
  REQUIRE(url.ok());
  return *url;
}

HttpRequest postTo(const TestHttpsServer& server, std::string_view body = "{\"shard\":[1,2,3]}",
                   std::string_view path = "/v1/store/contribute") {
  HttpRequest request;
  request.method = "POST";
  request.url = joinPath(urlOf(server.url()), path);
  request.body = body;
  return request;
}

// Sends one request and stores its result and the time it finished.
asio::awaitable<void> sendInto(std::optional<Result<HttpResponse>>& out, HttpRequest request,
                               const TlsClientProfile& profile, RequestOptions options,
                               Clock::time_point* finishedAt = nullptr) {
  out = co_await sendRequest(std::move(request), profile, std::move(options));
  if (finishedAt != nullptr) {
    *finishedAt = Clock::now();
  }
}

void rethrowFailure(std::exception_ptr error) {
  if (error) {
    std::rethrow_exception(error);
  }
}

// Runs one request on a fresh io_context. When cancelAfter is set, emits a
// terminal cancellation that long after the start and stores the time taken
// from the cancellation to the result in cancelLatency.
Result<HttpResponse> run(HttpRequest request, const TlsClientProfile& profile,
                         RequestOptions options = {},
                         std::optional<std::chrono::milliseconds> cancelAfter = std::nullopt,
                         Clock::duration* cancelLatency = nullptr) {
  asio::io_context io;
  std::optional<Result<HttpResponse>> result;
  Clock::time_point cancelledAt;
  Clock::time_point finishedAt;
  asio::cancellation_signal cancel;
  asio::co_spawn(io, sendInto(result, std::move(request), profile, std::move(options), &finishedAt),
                 asio::bind_cancellation_slot(cancel.slot(), rethrowFailure));

  asio::steady_timer cancelTimer(io);
  if (cancelAfter) {
    cancelTimer.expires_after(*cancelAfter);
    cancelTimer.async_wait([&](boost::system::error_code error) {
      if (!error && !result) {
        cancelledAt = Clock::now();
        cancel.emit(asio::cancellation_type::terminal);
      }
    });
  }
  io.run();
  REQUIRE(result.has_value());
  if (cancelLatency != nullptr) {
    *cancelLatency = finishedAt - cancelledAt;
  }
  return std::move(*result);
}

CaTlsProfile caProfile() { return CaTlsProfile(pki().ca.bundlePem()); }

std::unique_ptr<TestHttpsServer> startServer(
    std::function<ServerReply(const ReceivedRequest&)> handler = okReply,
    TestHttpsServerOptions options = {}, const TestCert& cert = pki().server) {
  auto server = std::make_unique<TestHttpsServer>(makeServerContext(cert), std::move(handler),
                                                  std::move(options));
  server->start();
  return server;
}

}  // namespace

TEST_CASE("client posts JSON and reads 200", "[net][https]") {
  auto server = startServer(
      [](const ReceivedRequest&) { return ServerReply::json(200, "{\"hash\":\"abc\"}"); });
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
  CHECK(result->body == "{\"hash\":\"abc\"}");
  CHECK(result->header("content-type") == "application/json");
  CHECK(result->header("Content-Type") == "application/json");
  CHECK(result->header("X-Missing").empty());
  CHECK(statusFromHttp(*result).ok());

  REQUIRE(server->requestCount() == 1);
  ReceivedRequest received = server->requests().front();
  CHECK(received.method == "POST");
  CHECK(received.target == "/v1/store/contribute");
  CHECK(received.body == "{\"shard\":[1,2,3]}");
  CHECK(received.header("Host") == "127.0.0.1:" + std::to_string(server->port()));
  CHECK(received.header("Content-Type") == "application/json");
  CHECK(received.header("Content-Length") == "17");
  CHECK(received.header("Connection") == "close");
  CHECK_THAT(std::string(received.header("User-Agent")), Contains("spike-bootstrap/"));
}

TEST_CASE("client joins the base path", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  HttpRequest request = postTo(*server);
  request.url = joinPath(urlOf(server->url() + "/k1/"), "/v1/store/contribute");

  REQUIRE(run(request, profile).ok());
  REQUIRE(server->requestCount() == 1);
  CHECK(server->requests().front().target == "/k1/v1/store/contribute");
}

TEST_CASE("client sends GET without body", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  HttpRequest request;
  request.method = "GET";
  request.url = joinPath(urlOf(server->url()), "/api/v1/namespaces/spike/configmaps/state");
  request.headers.emplace_back("Authorization", "Bearer test-token");

  auto result = run(request, profile);

  REQUIRE(result.ok());
  REQUIRE(server->requestCount() == 1);
  ReceivedRequest received = server->requests().front();
  CHECK(received.method == "GET");
  CHECK(received.target == "/api/v1/namespaces/spike/configmaps/state");
  CHECK(received.header("Authorization") == "Bearer test-token");
  CHECK(received.header("Content-Length").empty());
  CHECK(received.header("Content-Type").empty());
  CHECK(received.body.empty());
}

TEST_CASE("client offers only http/1.1 and sends no SNI for IPs", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();

  REQUIRE(run(postTo(*server), profile).ok());
  REQUIRE(server->waitForConnections(1, 5s));
  auto connection = server->connections().front();
  CHECK(connection.handshakeSucceeded);
  CHECK(connection.alpnProtocol == "http/1.1");
  CHECK(connection.serverName.empty());
  CHECK(connection.peerCertificateDer.empty());
}

TEST_CASE("client sends SNI and checks DNS names", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  HttpRequest request = postTo(*server);
  request.url = joinPath(urlOf("https://localhost:" + std::to_string(server->port())), "/x");

  auto result = run(request, profile);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
  REQUIRE(server->waitForConnections(1, 5s));
  CHECK(server->connections().back().serverName == "localhost");
  CHECK(server->requests().front().header("Host") == "localhost:" + std::to_string(server->port()));
}

TEST_CASE("client returns HTTP error statuses", "[net][https]") {
  struct Case {
    int status;
    StatusCode code;
  };
  const Case cases[] = {
      {503, StatusCode::kUnavailable},     {429, StatusCode::kUnavailable},
      {500, StatusCode::kUnavailable},     {502, StatusCode::kUnavailable},
      {401, StatusCode::kUnauthenticated}, {403, StatusCode::kPermissionDenied},
      {400, StatusCode::kInvalidArgument}, {404, StatusCode::kNotFound},
      {409, StatusCode::kAborted},         {422, StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto server = startServer([&](const ReceivedRequest&) {
      return ServerReply::json(c.status, "{\"error\":\"status " + std::to_string(c.status) + "\"}");
    });
    CaTlsProfile profile = caProfile();
    INFO("HTTP status " << c.status);

    auto result = run(postTo(*server), profile);

    REQUIRE(result.ok());
    CHECK(result->status == c.status);
    Status status = statusFromHttp(*result);
    CHECK(status.code() == c.code);
    CHECK_THAT(status.message(), Contains("HTTP " + std::to_string(c.status)));
    CHECK_THAT(status.message(), Contains("status " + std::to_string(c.status)));
  }
}

TEST_CASE("client reads a chunked body", "[net][https]") {
  std::string body = "{\"hash\":\"" + std::string(100, 'a') + "\"}";
  auto server = startServer([&](const ReceivedRequest&) {
    ServerReply reply = ServerReply::json(200, body);
    reply.mode = ServerReply::Mode::kChunked;
    reply.chunkSize = 7;
    return reply;
  });
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
  CHECK(result->body == body);
  CHECK(result->header("Transfer-Encoding") == "chunked");
}

TEST_CASE("client rejects a body over the cap", "[net][https]") {
  std::size_t size = 0;
  ServerReply::Mode mode = ServerReply::Mode::kRespond;
  auto server = startServer([&](const ReceivedRequest&) {
    ServerReply reply = ServerReply::json(200, std::string(size, 'x'));
    reply.mode = mode;
    reply.chunkSize = 4096;
    return reply;
  });
  CaTlsProfile profile = caProfile();

  SECTION("exactly 64 KiB passes") {
    size = 64 * 1024;
    auto result = run(postTo(*server), profile);
    REQUIRE(result.ok());
    CHECK(result->body.size() == size);
  }
  SECTION("one byte over 64 KiB fails") {
    size = 64 * 1024 + 1;
    auto result = run(postTo(*server), profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(result.status().message(), Contains("read"));
    CHECK_THAT(result.status().message(), Contains("larger than the limit of 65536 bytes"));
  }
  SECTION("chunked body over the cap fails") {
    size = 64 * 1024 + 1;
    mode = ServerReply::Mode::kChunked;
    auto result = run(postTo(*server), profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kDataLoss);
  }
  SECTION("a smaller cap applies") {
    size = 11;
    RequestOptions options;
    options.maxBodyBytes = 10;
    auto result = run(postTo(*server), profile, options);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(result.status().message(), Contains("limit of 10 bytes"));
  }
}

TEST_CASE("client returns redirects unfollowed", "[net][https]") {
  auto server = startServer([](const ReceivedRequest&) {
    return ServerReply::redirect(302, "https://127.0.0.1:1/elsewhere");
  });
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE(result.ok());
  CHECK(result->status == 302);
  CHECK(result->header("Location") == "https://127.0.0.1:1/elsewhere");
  CHECK(server->requestCount() == 1);
  Status status = statusFromHttp(*result);
  CHECK(status.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(status.message(), Contains("https://127.0.0.1:1/elsewhere"));
}

TEST_CASE("client reports a connection closed without reply", "[net][https]") {
  auto server = startServer([](const ReceivedRequest&) {
    return ServerReply::withMode(ServerReply::Mode::kCloseWithoutReply);
  });
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(result.status().message(), Contains("POST " + server->url()));
  CHECK_THAT(result.status().message(), Contains(": read: "));
  CHECK_THAT(result.status().message(), Contains("connection closed"));
}

TEST_CASE("client reports a connection closed mid-body", "[net][https]") {
  auto server = startServer([](const ReceivedRequest&) {
    ServerReply reply = ServerReply::json(200, std::string(1000, 'x'));
    reply.mode = ServerReply::Mode::kCloseMidBody;
    return reply;
  });
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(result.status().message(), Contains(": read: "));
}

TEST_CASE("client reports a refused connection", "[net][https]") {
  CaTlsProfile profile = caProfile();

  SECTION("port bound and closed") {
    HttpRequest request;
    request.url = urlOf("https://127.0.0.1:" + std::to_string(closedPort()) + "/v1");
    request.body = "{}";
    auto result = run(request, profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kUnavailable);
    CHECK(result.status().retryable());
    CHECK_THAT(result.status().message(), Contains(": connect: "));
  }
  SECTION("server not listening yet, then up") {
    TestHttpsServer server(makeServerContext(pki().server), okReply);
    auto refused = run(postTo(server), profile);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(refused.status().message(), Contains(": connect: "));

    server.start();
    auto accepted = run(postTo(server), profile);
    REQUIRE(accepted.ok());
    CHECK(accepted->status == 200);
  }
}

TEST_CASE("client times out a slow reply", "[net][https]") {
  auto server = startServer([](const ReceivedRequest&) {
    ServerReply reply = ServerReply::json(200, "{}");
    reply.delay = 5s;
    return reply;
  });
  CaTlsProfile profile = caProfile();
  RequestOptions options;
  options.timeout = 300ms;

  auto start = Clock::now();
  auto result = run(postTo(*server), profile, options);
  auto elapsed = Clock::now() - start;

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(result.status().message(), Contains(": read: timed out"));
  CHECK_THAT(result.status().message(), Contains("300 ms"));
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("client accepts an unlimited timeout", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  RequestOptions options;
  options.timeout = std::chrono::steady_clock::duration::max();

  auto result = run(postTo(*server), profile, options);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
}

TEST_CASE("client times out a stalled handshake", "[net][https]") {
  TestHttpsServerOptions serverOptions;
  serverOptions.handshakeDelay = 5s;
  auto server = startServer(okReply, serverOptions);
  CaTlsProfile profile = caProfile();
  RequestOptions options;
  options.timeout = 300ms;

  auto start = Clock::now();
  auto result = run(postTo(*server), profile, options);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(result.status().message(), Contains(": tls handshake: timed out"));
  CHECK(Clock::now() - start < 2s);
}

TEST_CASE("client rejects a host name mismatch", "[net][https]") {
  // A certificate for another name is final: retrying reaches the same
  // server with the same certificate, so the code is PermissionDenied.
  TestCert otherName = pki().ca.issue(Pki::serverOptions({"other.example"}, {"10.9.9.9"}));
  auto server = startServer(okReply, {}, otherName);
  CaTlsProfile profile = caProfile();

  SECTION("IP address") {
    auto result = run(postTo(*server), profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kPermissionDenied);
    CHECK_FALSE(result.status().retryable());
    CHECK_THAT(result.status().message(), Contains(": tls handshake: "));
    CHECK_THAT(result.status().message(), Contains("IP address mismatch"));
  }
  SECTION("DNS name") {
    HttpRequest request = postTo(*server);
    request.url = urlOf("https://localhost:" + std::to_string(server->port()));
    auto result = run(request, profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kPermissionDenied);
    CHECK_THAT(result.status().message(), Contains("hostname mismatch"));
  }
  CHECK(server->requestCount() == 0);
}

TEST_CASE("client rejects a server from another CA", "[net][https]") {
  auto server = startServer();
  TestCa otherCa = TestCa::root(caOptions("other root"));
  CaTlsProfile profile(otherCa.bundlePem());

  auto result = run(postTo(*server), profile);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kPermissionDenied);
  CHECK_THAT(result.status().message(), Contains("server certificate rejected"));
  CHECK_THAT(result.status().message(), Contains("unable to get local issuer certificate"));
  CHECK(server->requestCount() == 0);
}

TEST_CASE("client rejects an expired server certificate", "[net][https]") {
  CertOptions options = Pki::serverOptions({"localhost"}, {"127.0.0.1"});
  options.notBefore = -2h;
  options.notAfter = -1h;
  auto server = startServer(okReply, {}, pki().ca.issue(options));
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(*server), profile);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kPermissionDenied);
  CHECK_THAT(result.status().message(), Contains("certificate has expired"));
}

TEST_CASE("client reports TLS failures as unavailable", "[net][https]") {
  // The server allows only TLS 1.1, below the client's TLS 1.2 minimum.
  SslCtxPtr context = makeServerContext(pki().server);
  SSL_CTX_set_security_level(context.get(), 0);
  SSL_CTX_set_min_proto_version(context.get(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(context.get(), TLS1_1_VERSION);
  TestHttpsServer server(std::move(context), okReply);
  server.start();
  CaTlsProfile profile = caProfile();

  auto result = run(postTo(server), profile);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(result.status().message(), Contains(": tls handshake: TLS handshake failed"));
  CHECK(server.requestCount() == 0);
}

TEST_CASE("client runs beforeSend after the handshake", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  RequestOptions options;
  bool ran = false;
  std::size_t handshakesSeen = 0;
  std::size_t requestsSeen = 0;
  options.beforeSend = [&]() -> asio::awaitable<Status> {
    ran = true;
    // The server finishes its side of the handshake on its own thread.
    server->waitForConnections(1, 5s);
    handshakesSeen = server->connections().size();
    requestsSeen = server->requestCount();
    co_return Status();
  };

  auto result = run(postTo(*server), profile, options);

  REQUIRE(result.ok());
  CHECK(ran);
  CHECK(handshakesSeen == 1);
  CHECK(server->connections().front().handshakeSucceeded);
  CHECK(requestsSeen == 0);
  CHECK(server->requestCount() == 1);
}

TEST_CASE("client sends nothing when beforeSend fails", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();
  RequestOptions options;
  options.beforeSend = []() -> asio::awaitable<Status> {
    co_return Status(StatusCode::kFailedPrecondition, "state not claimed");
  };

  auto result = run(postTo(*server), profile, options);

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(result.status().message(), Contains(": before send: state not claimed"));
  REQUIRE(server->waitForConnections(1, 5s));
  // The client closed after the handshake. Give a stray request time to show.
  CHECK_FALSE(server->waitForRequests(1, 300ms));
}

TEST_CASE("client stops promptly when cancelled", "[net][https]") {
  CaTlsProfile profile = caProfile();
  Clock::duration latency{};

  SECTION("while waiting for the reply") {
    auto server = startServer(
        [](const ReceivedRequest&) { return ServerReply::withMode(ServerReply::Mode::kHang); });
    auto result = run(postTo(*server), profile, {}, 300ms, &latency);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kCancelled);
    CHECK(server->requestCount() == 1);
  }
  SECTION("during the handshake") {
    TestHttpsServerOptions serverOptions;
    serverOptions.handshakeDelay = 10s;
    auto server = startServer(okReply, serverOptions);
    auto result = run(postTo(*server), profile, {}, 300ms, &latency);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kCancelled);
    CHECK_THAT(result.status().message(), Contains("tls handshake"));
  }
  SECTION("inside beforeSend") {
    auto server = startServer();
    RequestOptions options;
    options.beforeSend = []() -> asio::awaitable<Status> {
      asio::steady_timer timer(co_await asio::this_coro::executor, 10s);
      co_await timer.async_wait(asio::use_awaitable);
      co_return Status();
    };
    auto result = run(postTo(*server), profile, options, 300ms, &latency);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kCancelled);
    CHECK(server->requestCount() == 0);
  }
  CHECK(latency < 500ms);
}

TEST_CASE("client sends requests in parallel", "[net][https]") {
  auto server = startServer([](const ReceivedRequest& request) {
    ServerReply reply = ServerReply::json(200, "{\"echo\":\"" + request.target + "\"}");
    reply.delay = 200ms;
    return reply;
  });
  CaTlsProfile profile = caProfile();
  asio::io_context io;
  std::vector<std::optional<Result<HttpResponse>>> results(3);
  for (std::size_t i = 0; i < results.size(); ++i) {
    asio::co_spawn(io,
                   sendInto(results[i], postTo(*server, "{}", "/k" + std::to_string(i)), profile,
                            RequestOptions{}),
                   rethrowFailure);
  }

  auto start = Clock::now();
  io.run();

  // Three 200 ms replies in sequence would take at least 600 ms.
  CHECK(Clock::now() - start < 600ms);
  for (std::size_t i = 0; i < results.size(); ++i) {
    REQUIRE(results[i].has_value());
    REQUIRE(results[i]->ok());
    CHECK((*results[i])->body == "{\"echo\":\"/k" + std::to_string(i) + "\"}");
  }
}

TEST_CASE("client reaches an IPv6 loopback server", "[net][https]") {
  if (!ipv6LoopbackAvailable()) {
    WARN("skipped: no IPv6 loopback address on this machine");
    return;
  }
  TestHttpsServerOptions options;
  options.address = "::1";
  auto server = startServer(okReply, options);
  CaTlsProfile profile = caProfile();
  CHECK(server->url() == "https://[::1]:" + std::to_string(server->port()));

  auto result = run(postTo(*server), profile);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
  REQUIRE(server->requestCount() == 1);
  CHECK(server->requests().front().header("Host") == "[::1]:" + std::to_string(server->port()));
}

TEST_CASE("client rejects header injection before connecting", "[net][https]") {
  auto server = startServer();
  CaTlsProfile profile = caProfile();

  SECTION("CR LF in a value") {
    HttpRequest request = postTo(*server);
    request.headers.emplace_back("X-Test", "a\r\nInjected: yes");
    auto result = run(request, profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("space in a name") {
    HttpRequest request = postTo(*server);
    request.headers.emplace_back("X Test", "a");
    auto result = run(request, profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("invalid method") {
    HttpRequest request = postTo(*server);
    request.method = "PO ST";
    auto result = run(request, profile);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(server->connectionCount() == 0);
}

TEST_CASE("client never puts the body in errors", "[net][https]") {
  auto server = startServer([](const ReceivedRequest&) {
    return ServerReply::withMode(ServerReply::Mode::kCloseWithoutReply);
  });
  CaTlsProfile profile = caProfile();
  std::string secret = "{\"shard\":[42,42,42,42,42,42,42,42]}";

  auto result = run(postTo(*server, secret), profile);

  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.status().message(), !Contains("42,42"));
}

TEST_CASE("server records the client certificate", "[net][https]") {
  // A profile that also presents a client certificate, the way SPIFFE mTLS does.
  class ClientCertProfile final : public TlsClientProfile {
   public:
    ClientCertProfile(std::string caPem, TestCert cert)
        : ca_(std::move(caPem)), cert_(std::move(cert)) {}
    Result<SslCtxPtr> makeContext(const Url& url) const override {
      auto context = ca_.makeContext(url);
      if (context.ok()) {
        SSL_CTX_use_certificate(context->get(), cert_.cert());
        SSL_CTX_use_PrivateKey(context->get(), cert_.key());
      }
      return context;
    }
    bool checkHostName() const override { return true; }
    std::optional<std::string> peerRejection(SSL_CTX* context) const override {
      return ca_.peerRejection(context);
    }

   private:
    CaTlsProfile ca_;
    TestCert cert_;
  };
  CertOptions clientOptions;
  clientOptions.commonName = "net test client";
  clientOptions.extendedKeyUsage = {"clientAuth"};
  TestCert client = pki().ca.issue(clientOptions);
  TestHttpsServer server(makeServerContext(pki().server, pki().ca.bundlePem()), okReply);
  server.start();
  ClientCertProfile profile(pki().ca.bundlePem(), client);

  auto result = run(postTo(server), profile);

  REQUIRE(result.ok());
  REQUIRE(server.requestCount() == 1);
  auto der = client.certDer();
  std::string expected(der.begin(), der.end());
  CHECK(server.connections().front().peerCertificateDer == expected);
  CHECK(server.requests().front().peerCertificateDer == expected);
}

TEST_CASE("server stops promptly with open connections", "[net][https]") {
  auto server = startServer(
      [](const ReceivedRequest&) { return ServerReply::withMode(ServerReply::Mode::kHang); });
  CaTlsProfile profile = caProfile();
  asio::io_context io;
  std::optional<Result<HttpResponse>> result;
  asio::co_spawn(io, sendInto(result, postTo(*server), profile, RequestOptions{}), rethrowFailure);
  std::thread stopper([&] {
    server->waitForRequests(1, 5s);
    server->stop();
  });

  auto start = Clock::now();
  io.run();
  stopper.join();

  REQUIRE(result.has_value());
  REQUIRE_FALSE(result->ok());
  CHECK(result->status().code() == StatusCode::kUnavailable);
  CHECK(Clock::now() - start < 2s);
}

TEST_CASE("CA profile rejects a bundle without certificates", "[net][tls]") {
  Url url = urlOf("https://127.0.0.1:1");
  for (const char* pem : {"", "not a certificate",
                          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
    INFO("bundle: " << pem);
    auto context = CaTlsProfile(pem).makeContext(url);
    REQUIRE_FALSE(context.ok());
    CHECK(context.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(context.status().message(), Contains("CA bundle"));
  }
}

TEST_CASE("CA profile accepts a bundle of several CAs", "[net][tls]") {
  TestCa other = TestCa::root(caOptions("other root"));
  auto server = startServer();
  CaTlsProfile profile(other.bundlePem() + pki().ca.bundlePem());

  auto result = run(postTo(*server), profile);

  REQUIRE(result.ok());
  CHECK(result->status == 200);
}

TEST_CASE("status from HTTP quotes a bounded body", "[net][https]") {
  HttpResponse response;
  response.status = 500;
  response.body = std::string(300, 'e') + "\n";
  Status status = statusFromHttp(response);
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.message() == "HTTP 500 Internal Server Error: " + std::string(200, 'e') + "...");

  response.status = 400;
  response.body = "bad\nbody\x01";
  CHECK(statusFromHttp(response).message() == "HTTP 400 Bad Request: bad?body?");

  response.status = 299;
  CHECK(statusFromHttp(response).ok());
  response.status = 204;
  CHECK(statusFromHttp(response).ok());

  response.status = 799;
  response.body.clear();
  CHECK(statusFromHttp(response).code() == StatusCode::kDataLoss);
  CHECK(statusFromHttp(response).message() == "HTTP 799");
}
