// TestHttpsServer over Boost.Beast: an accept loop and one coroutine per
// connection on a private io_context, plus the server TLS context helper.
#include "support/https/test_https_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace spike_bootstrap::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

std::string derOf(X509* cert) {
  if (cert == nullptr) {
    return {};
  }
  unsigned char* der = nullptr;
  int size = i2d_X509(cert, &der);
  if (size <= 0) {
    return {};
  }
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return bytes;
}

// Prefers "h2" the way Go's net/http does, so a client that offers it would
// visibly get it; our client must only ever offer "http/1.1".
int selectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outSize,
               const unsigned char* offered, unsigned int offeredSize, void* /*arg*/) {
  static const unsigned char kPreference[] = {2,   'h', '2', 8,   'h', 't',
                                              't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outSize, kPreference, sizeof(kPreference), offered,
                            offeredSize) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::vector<net::Header> headersOf(const http::request<http::string_body>& message) {
  std::vector<net::Header> headers;
  for (const auto& field : message) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return headers;
}

}  // namespace

std::string_view ReceivedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

ServerReply ServerReply::json(int status, std::string body) {
  ServerReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

ServerReply ServerReply::redirect(int status, std::string location) {
  ServerReply reply;
  reply.status = status;
  reply.headers.emplace_back("Location", std::move(location));
  reply.contentType = "text/plain";
  reply.body = "moved";
  return reply;
}

ServerReply ServerReply::withMode(Mode mode) {
  ServerReply reply;
  reply.mode = mode;
  return reply;
}

class TestHttpsServer::Impl {
 public:
  Impl(SslCtxPtr context, RequestHandler handler, TestHttpsServerOptions options)
      : io_(std::make_unique<asio::io_context>(1)),
        acceptor_(std::make_unique<tcp::acceptor>(*io_)),
        tls_(context.release()),
        handler_(std::move(handler)),
        options_(std::move(options)) {
    tcp::endpoint endpoint(asio::ip::make_address(options_.address), 0);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint);
    port_ = acceptor_->local_endpoint().port();
  }

  ~Impl() { stop(); }

  void start() {
    std::lock_guard lock(lifecycle_);
    if (started_ || stopped_) {
      return;
    }
    acceptor_->listen();
    asio::co_spawn(*io_, acceptLoop(), [this](std::exception_ptr error) { recordError(error); });
    thread_ = std::thread([this] { io_->run(); });
    started_ = true;
  }

  void stop() {
    std::lock_guard lock(lifecycle_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    io_->stop();
    if (thread_.joinable()) {
      thread_.join();
    }
    // Destroying the io_context destroys the suspended coroutines, and with
    // them every connection's socket, so clients see the close now.
    acceptor_.reset();
    io_.reset();
    changed_.notify_all();
  }

  std::uint16_t port() const { return port_; }
  const TestHttpsServerOptions& options() const { return options_; }

  template <typename Predicate>
  bool waitFor(std::chrono::milliseconds timeout, Predicate predicate) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return predicate(); });
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<ReceivedRequest> requests_;
  std::vector<ConnectionRecord> connections_;
  std::size_t finishedHandshakes_ = 0;
  std::vector<std::string> errors_;

 private:
  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [error, socket] = co_await acceptor_->async_accept(kUseTuple);
      if (error == asio::error::operation_aborted || !acceptor_->is_open()) {
        co_return;
      }
      if (error) {
        recordError(std::make_exception_ptr(boost::system::system_error(error, "accept")));
        continue;
      }
      std::size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = connections_.size();
        connections_.emplace_back();
      }
      asio::co_spawn(*io_, serveConnection(std::move(socket), index),
                     [this](std::exception_ptr failure) { recordError(failure); });
    }
  }

  asio::awaitable<void> serveConnection(tcp::socket socket, std::size_t index) {
    error_code noDelayError;
    socket.set_option(tcp::no_delay(true), noDelayError);
    TlsStream stream(std::move(socket), tls_);
    if (options_.handshakeDelay.count() > 0) {
      asio::steady_timer timer(*io_, options_.handshakeDelay);
      co_await timer.async_wait(kUseTuple);
    }

    auto [handshakeError] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
    recordHandshake(index, stream.native_handle(), handshakeError);
    if (handshakeError) {
      co_return;
    }

    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.maxRequestBodyBytes);
      auto [readError, bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      if (readError) {
        co_return;  // the client closed the connection or sent something unreadable
      }
      http::request<http::string_body> message = parser.release();
      ReceivedRequest request = recordRequest(index, message);
      ServerReply reply = callHandler(request);

      if (reply.delay.count() > 0) {
        asio::steady_timer timer(*io_, reply.delay);
        co_await timer.async_wait(kUseTuple);
      }
      bool keepOpen = co_await sendReply(stream, reply, message.version(), message.keep_alive());
      if (!keepOpen) {
        break;
      }
    }
    error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // Sends the reply and returns whether the connection stays open for another request.
  asio::awaitable<bool> sendReply(TlsStream& stream, const ServerReply& reply, unsigned version,
                                  bool keepAlive) {
    using Mode = ServerReply::Mode;
    switch (reply.mode) {
      case Mode::kCloseWithoutReply:
        co_return false;
      case Mode::kHang: {
        asio::steady_timer never(*io_, asio::steady_timer::time_point::max());
        co_await never.async_wait(kUseTuple);
        co_return false;
      }
      case Mode::kRespond: {
        http::response<http::string_body> response(http::int_to_status(reply.status), version);
        response.result(static_cast<unsigned>(reply.status));
        addHeaders(response, reply);
        response.body() = reply.body;
        response.keep_alive(keepAlive);
        response.prepare_payload();
        auto [error, bytes] = co_await http::async_write(stream, response, kUseTuple);
        co_return !error && keepAlive;
      }
      case Mode::kChunked:
        co_return co_await sendChunked(stream, reply, version, keepAlive);
      case Mode::kCloseMidBody: {
        http::response<http::empty_body> response(http::int_to_status(reply.status), version);
        response.result(static_cast<unsigned>(reply.status));
        addHeaders(response, reply);
        response.content_length(reply.body.size());
        http::response_serializer<http::empty_body> serializer(response);
        co_await http::async_write_header(stream, serializer, kUseTuple);
        co_await asio::async_write(stream, asio::buffer(reply.body.data(), reply.body.size() / 2),
                                   kUseTuple);
        co_return false;
      }
    }
    co_return false;
  }

  asio::awaitable<bool> sendChunked(TlsStream& stream, const ServerReply& reply, unsigned version,
                                    bool keepAlive) {
    http::response<http::empty_body> response(http::int_to_status(reply.status), version);
    response.result(static_cast<unsigned>(reply.status));
    addHeaders(response, reply);
    response.chunked(true);
    response.keep_alive(keepAlive);
    http::response_serializer<http::empty_body> serializer(response);
    auto [headerError, headerBytes] =
        co_await http::async_write_header(stream, serializer, kUseTuple);
    if (headerError) {
      co_return false;
    }
    std::size_t chunkSize = std::max<std::size_t>(reply.chunkSize, 1);
    for (std::size_t offset = 0; offset < reply.body.size(); offset += chunkSize) {
      std::size_t size = std::min(chunkSize, reply.body.size() - offset);
      auto [error, bytes] = co_await asio::async_write(
          stream, http::make_chunk(asio::buffer(reply.body.data() + offset, size)), kUseTuple);
      if (error) {
        co_return false;
      }
    }
    auto [lastError, lastBytes] =
        co_await asio::async_write(stream, http::make_chunk_last(), kUseTuple);
    co_return !lastError && keepAlive;
  }

  template <typename Message>
  static void addHeaders(Message& response, const ServerReply& reply) {
    if (!reply.contentType.empty()) {
      response.set(http::field::content_type, reply.contentType);
    }
    for (const auto& [name, value] : reply.headers) {
      response.insert(name, value);
    }
  }

  ServerReply callHandler(const ReceivedRequest& request) {
    try {
      return handler_(request);
    } catch (...) {
      recordError(std::current_exception());
      return ServerReply::json(500, "{\"error\":\"handler threw an exception\"}");
    }
  }

  void recordHandshake(std::size_t index, SSL* ssl, const error_code& error) {
    ConnectionRecord record;
    record.handshakeSucceeded = !error;
    record.handshakeError = error ? error.message() : "";
    record.peerCertificateDer = derOf(SSL_get0_peer_certificate(ssl));
    const unsigned char* alpn = nullptr;
    unsigned int alpnSize = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpnSize);
    record.alpnProtocol.assign(reinterpret_cast<const char*>(alpn), alpnSize);
    record.tlsVersion = SSL_get_version(ssl);
    const char* serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    record.serverName = serverName == nullptr ? "" : serverName;

    std::lock_guard lock(mutex_);
    connections_[index] = std::move(record);
    ++finishedHandshakes_;
    changed_.notify_all();
  }

  ReceivedRequest recordRequest(std::size_t index,
                                const http::request<http::string_body>& message) {
    ReceivedRequest request;
    request.connection = index;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.headers = headersOf(message);
    request.body = message.body();

    std::lock_guard lock(mutex_);
    request.peerCertificateDer = connections_[index].peerCertificateDer;
    requests_.push_back(request);
    changed_.notify_all();
    return request;
  }

  void recordError(std::exception_ptr failure) {
    if (!failure) {
      return;
    }
    std::string text;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& error) {
      text = error.what();
    } catch (...) {
      text = "unknown exception";
    }
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(text));
    changed_.notify_all();
  }

  // Declared first so it is destroyed last: the coroutines it owns refer to
  // the members below.
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  asio::ssl::context tls_;
  RequestHandler handler_;
  TestHttpsServerOptions options_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex lifecycle_;
  bool started_ = false;
  bool stopped_ = false;
};

TestHttpsServer::TestHttpsServer(SslCtxPtr context, RequestHandler handler,
                                 TestHttpsServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(context), std::move(handler), std::move(options))) {}

TestHttpsServer::~TestHttpsServer() = default;

void TestHttpsServer::start() { impl_->start(); }
void TestHttpsServer::stop() { impl_->stop(); }
std::uint16_t TestHttpsServer::port() const { return impl_->port(); }

std::string TestHttpsServer::url() const {
  const std::string& address = impl_->options().address;
  std::string host = address.find(':') == std::string::npos ? address : "[" + address + "]";
  return "https://" + host + ":" + std::to_string(port());
}

std::vector<ReceivedRequest> TestHttpsServer::requests() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->requests_;
}

std::vector<ConnectionRecord> TestHttpsServer::connections() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->connections_;
}

std::size_t TestHttpsServer::requestCount() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->requests_.size();
}

std::size_t TestHttpsServer::connectionCount() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->connections_.size();
}

bool TestHttpsServer::waitForRequests(std::size_t count, std::chrono::milliseconds timeout) const {
  return impl_->waitFor(timeout, [&] { return impl_->requests_.size() >= count; });
}

bool TestHttpsServer::waitForConnections(std::size_t count,
                                         std::chrono::milliseconds timeout) const {
  return impl_->waitFor(timeout, [&] { return impl_->finishedHandshakes_ >= count; });
}

std::vector<std::string> TestHttpsServer::errors() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->errors_;
}

bool ipv6LoopbackAvailable() {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  error_code error;
  acceptor.open(tcp::v6(), error);
  if (!error) {
    acceptor.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), error);
  }
  return !error;
}

std::uint16_t closedPort(const std::string& address) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(address), 0));
  std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

SslCtxPtr makeServerContext(const TestCert& cert, const std::string& clientCaPem) {
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context || SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate(context.get(), cert.cert()) != 1 ||
      SSL_CTX_use_PrivateKey(context.get(), cert.key()) != 1) {
    throw std::runtime_error("server TLS context: " + drainOpensslErrors());
  }
  for (const auto& intermediate : cert.intermediates()) {
    if (SSL_CTX_add1_chain_cert(context.get(), intermediate.get()) != 1) {
      throw std::runtime_error("server TLS chain: " + drainOpensslErrors());
    }
  }
  SSL_CTX_set_alpn_select_cb(context.get(), selectAlpn, nullptr);

  if (!clientCaPem.empty()) {
    BioPtr bio(BIO_new_mem_buf(clientCaPem.data(), static_cast<int>(clientCaPem.size())));
    X509_STORE* store = SSL_CTX_get_cert_store(context.get());
    while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
      X509_STORE_add_cert(store, ca.get());
    }
    ERR_clear_error();
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

}  // namespace spike_bootstrap::testing
