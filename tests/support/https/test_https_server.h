// TestHttpsServer: an HTTPS/1.1 server on loopback for tests and fake peers.
//
// It runs its own io_context on its own thread and passes every request to a
// handler that decides the reply. A reply can have any status, headers and
// body, come after a delay, be chunked or cut off, be a redirect, or never
// come (close at once, or keep the connection open). The caller supplies the
// server's SSL_CTX, so fakes can require and check client certificates, and
// the server records each connection's peer certificate. Beast stays inside
// the implementation.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/net/https_client.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

// One request as the server received it.
struct ReceivedRequest {
  std::size_t connection = 0;  // index into TestHttpsServer::connections()
  std::string method;
  std::string target;
  std::vector<net::Header> headers;
  std::string body;
  // DER of the client certificate the connection presented, empty without one.
  std::string peerCertificateDer;

  // Returns the first header with this name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

// What the server does with one request.
struct ServerReply {
  enum class Mode {
    kRespond,            // status, headers and body with Content-Length
    kChunked,            // the body in chunks of chunkSize bytes
    kCloseWithoutReply,  // close the connection without sending a byte
    kCloseMidBody,       // send the header and half the body, then close
    kHang,               // send nothing and keep the connection open until stop()
  };

  Mode mode = Mode::kRespond;
  int status = 200;
  std::vector<net::Header> headers;
  std::string contentType = "application/json";
  std::string body;
  // Time to wait before replying (or closing), without blocking other connections.
  std::chrono::milliseconds delay{0};
  std::size_t chunkSize = 16;

  static ServerReply json(int status, std::string body);
  // A 3xx reply with a Location header.
  static ServerReply redirect(int status, std::string location);
  static ServerReply withMode(Mode mode);
};

using RequestHandler = std::function<ServerReply(const ReceivedRequest&)>;

// One accepted TCP connection.
struct ConnectionRecord {
  bool handshakeSucceeded = false;
  std::string handshakeError;  // empty when the handshake succeeded
  std::string peerCertificateDer;
  std::string alpnProtocol;  // negotiated ALPN protocol, empty when none
  std::string tlsVersion;    // such as "TLSv1.3"
  std::string serverName;    // SNI host name the client sent, empty when none
};

struct TestHttpsServerOptions {
  // Loopback address to bind: "127.0.0.1" or "::1".
  std::string address = "127.0.0.1";
  // Time to wait after accepting a connection before the TLS handshake.
  std::chrono::milliseconds handshakeDelay{0};
  std::size_t maxRequestBodyBytes = 1024 * 1024;
};

// Thread rule: construct, start(), stop() and the record getters from any one
// thread other than the server's own. The handler runs on the server thread,
// one request at a time.
class TestHttpsServer {
 public:
  // Binds address:0 at once, so port() and url() are known before start().
  // Until start() the socket does not listen, so connections are refused the
  // way they are by a peer that is not up yet. Throws when binding fails.
  TestHttpsServer(SslCtxPtr context, RequestHandler handler, TestHttpsServerOptions options = {});
  // Stops the server.
  ~TestHttpsServer();

  TestHttpsServer(const TestHttpsServer&) = delete;
  TestHttpsServer& operator=(const TestHttpsServer&) = delete;

  // Starts listening and serving on the server thread.
  void start();
  // Closes the listener and every open connection and joins the server
  // thread. Pending replies are dropped, and clients see the connection close.
  // The server cannot be started again. Calling it twice is harmless.
  void stop();

  std::uint16_t port() const;
  // "https://127.0.0.1:<port>" or "https://[::1]:<port>", without a path.
  std::string url() const;

  // Copies of what the server has seen so far, in arrival order.
  std::vector<ReceivedRequest> requests() const;
  std::vector<ConnectionRecord> connections() const;
  std::size_t requestCount() const;
  std::size_t connectionCount() const;

  // Wait until at least count requests (or connections with a finished
  // handshake, successful or not) were seen. Return false on timeout.
  bool waitForRequests(std::size_t count, std::chrono::milliseconds timeout) const;
  bool waitForConnections(std::size_t count, std::chrono::milliseconds timeout) const;

  // Failures the server caught instead of passing on: handler exceptions,
  // accept errors and exceptions that ended a connection's coroutine.
  std::vector<std::string> errors() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns true when a socket can be bound to [::1].
bool ipv6LoopbackAvailable();

// Returns a port on address that was bound and closed again, so a connection
// to it is refused unless another process takes the port in between.
std::uint16_t closedPort(const std::string& address = "127.0.0.1");

// Returns a server SSL_CTX that presents cert and its intermediates, allows
// TLS 1.2 and later, and selects ALPN "h2" when offered (as Go servers do),
// else "http/1.1". With a non-empty clientCaPem it requires a client
// certificate issued by those CAs.
SslCtxPtr makeServerContext(const TestCert& cert, const std::string& clientCaPem = "");

}  // namespace spike_bootstrap::testing
