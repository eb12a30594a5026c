// sendRequest: one HTTP/1.1 exchange over TLS with Boost.Beast, and the
// mapping of transport and HTTP failures to Status codes.
#include "spike_bootstrap/net/https_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <source_location>

#include "spike_bootstrap/common/log.h"

namespace spike_bootstrap::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using RequestHeader = http::request<http::empty_body>;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// SPIKE's servers and the Kubernetes API send a few hundred bytes of headers.
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
// 100 Continue and other interim responses skipped before the final one.
constexpr int kMaxInterimResponses = 8;
// Bytes of a response body quoted in statusFromHttp() messages.
constexpr std::size_t kMaxQuotedBodyBytes = 200;

const logging::Logger& logger() {
  static const logging::Logger instance("net");
  return instance;
}

long long toMilliseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// One exchange in progress: what error messages name, and its deadline.
struct Exchange {
  std::string label;  // "POST https://k1:8443/k1/v1/store/contribute"
  Clock::time_point start;
  Clock::time_point deadline;
  Clock::duration timeout;
  std::size_t maxBodyBytes = 0;
  const char* step = "prepare";

  // Returns a Status with the message "<method> <url>: <step>: <detail>".
  Status fail(StatusCode code, std::string_view detail,
              std::source_location location = std::source_location::current()) const {
    std::string message = label;
    message += ": ";
    message += step;
    message += ": ";
    message += detail;
    return Status(code, std::move(message), location);
  }
};

bool isHttpCategory(const error_code& error) {
  return error.category() == http::make_error_code(http::error::bad_version).category();
}

// Maps a transport error of the current step to the codes https_client.h
// documents.
Status failFromError(const Exchange& exchange, const error_code& error) {
  if (error == beast::error::timeout) {
    return exchange.fail(StatusCode::kDeadlineExceeded,
                         "timed out: the request did not finish within " +
                             std::to_string(toMilliseconds(exchange.timeout)) + " ms");
  }
  if (error == asio::error::operation_aborted) {
    return exchange.fail(StatusCode::kCancelled, "cancelled");
  }
  if (error == http::error::body_limit) {
    return exchange.fail(StatusCode::kDataLoss, "response body is larger than the limit of " +
                                                    std::to_string(exchange.maxBodyBytes) +
                                                    " bytes");
  }
  if (error == http::error::header_limit) {
    return exchange.fail(StatusCode::kDataLoss, "response header is larger than the limit of " +
                                                    std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (error == http::error::end_of_stream || error == http::error::partial_message ||
      error == asio::error::eof || error == asio::ssl::error::stream_truncated) {
    return exchange.fail(StatusCode::kUnavailable,
                         "connection closed by the server before the response was complete");
  }
  if (isHttpCategory(error)) {
    return exchange.fail(StatusCode::kDataLoss, "malformed HTTP response: " + error.message());
  }
  if (std::string_view(exchange.step) == "resolve") {
    // A keeper StatefulSet pod that is not scheduled yet has no DNS record, so
    // "host not found" is worth retrying like a refused connection.
    return exchange.fail(StatusCode::kUnavailable,
                         error.message() + " (check the host name and that the server exists)");
  }
  return exchange.fail(StatusCode::kUnavailable, error.message());
}

Status handshakeFailure(const Exchange& exchange, const error_code& error,
                        const TlsClientProfile& profile, SSL_CTX* context) {
  if (error.category() != asio::error::get_ssl_category()) {
    return failFromError(exchange, error);
  }
  if (std::optional<std::string> rejection = profile.peerRejection(context)) {
    return exchange.fail(StatusCode::kPermissionDenied,
                         "server certificate rejected: " + *rejection);
  }
  return exchange.fail(StatusCode::kUnavailable, "TLS handshake failed: " + error.message());
}

// RFC 9110 token characters, as allowed in methods and header names.
bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Rejects CR, LF and NUL, which would let a value start a new header line.
bool isFieldValue(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool isRequestTarget(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '#'; });
}

bool sendsBody(const HttpRequest& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
         request.method == "PATCH";
}

Result<RequestHeader> buildHeader(const HttpRequest& request, const Exchange& exchange) {
  if (!isToken(request.method)) {
    return exchange.fail(StatusCode::kInvalidArgument, "invalid HTTP method");
  }
  std::string target = request.url.path.empty() ? "/" : request.url.path;
  if (!isRequestTarget(target)) {
    return exchange.fail(StatusCode::kInvalidArgument,
                         "path contains a space, '#' or a character outside ASCII");
  }

  RequestHeader header;
  header.method_string(request.method);
  header.target(target);
  header.version(11);
  header.set(http::field::host, request.url.authority());
  header.set(http::field::user_agent, "spike-bootstrap/" SPIKE_BOOTSTRAP_VERSION);
  // Each request uses its own connection, so tell the server not to wait for more.
  header.set(http::field::connection, "close");
  if (sendsBody(request)) {
    if (!request.contentType.empty()) {
      header.set(http::field::content_type, request.contentType);
    }
    header.content_length(request.body.size());
  }

  if (!isFieldValue(request.contentType)) {
    return exchange.fail(StatusCode::kInvalidArgument,
                         "invalid content type: CR, LF and NUL are not allowed");
  }
  for (const auto& [name, value] : request.headers) {
    if (!isToken(name) || !isFieldValue(value)) {
      return exchange.fail(StatusCode::kInvalidArgument,
                           "invalid header \"" + (isToken(name) ? name : std::string("?")) +
                               "\": names must be tokens and values free of CR, LF and NUL");
    }
    header.insert(name, value);
  }
  return header;
}

// Turns on SNI (not for IP literals, RFC 6066 section 3) and, when the profile
// requires it, the check of the certificate against the URL's host name or IP.
Status prepareTls(SSL* ssl, const Url& url, bool checkHostName) {
  bool ipHost = url.ipHost();
  if (!ipHost && SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1) {
    return Status(StatusCode::kInternal, "set TLS server name: " + drainOpensslErrors());
  }
  if (!checkHostName) {
    return okStatus();
  }
  if (ipHost) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) != 1) {
      return Status(StatusCode::kInternal, "set expected IP address: " + drainOpensslErrors());
    }
    return okStatus();
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, url.host.c_str()) != 1) {
    return Status(StatusCode::kInternal, "set expected host name: " + drainOpensslErrors());
  }
  return okStatus();
}

// Resolver state shared with the completion handler. getaddrinfo() cannot be
// interrupted, so on a deadline or cancellation resolve() returns at once and
// the handler, which may run later, only fills this object.
struct PendingResolve {
  explicit PendingResolve(const asio::any_io_executor& executor)
      : resolver(executor), wakeup(executor) {}

  tcp::resolver resolver;
  asio::steady_timer wakeup;
  bool finished = false;
  error_code error;
  tcp::resolver::results_type endpoints;
};

// Resolves the URL's host. Call only from a single-threaded io_context or a
// strand, because the handler and the coroutine share PendingResolve unlocked.
asio::awaitable<Result<tcp::resolver::results_type>> resolve(const Url& url,
                                                             const Exchange& exchange) {
  if (url.ipHost()) {
    // An IP literal needs no lookup, and must not queue behind a stuck name
    // lookup on Asio's single resolver thread.
    error_code parseError;
    asio::ip::address address = asio::ip::make_address(url.host, parseError);
    if (!parseError) {
      co_return tcp::resolver::results_type::create(tcp::endpoint(address, url.port), url.host,
                                                    std::to_string(url.port));
    }
  }
  auto executor = co_await asio::this_coro::executor;
  auto pending = std::make_shared<PendingResolve>(executor);
  pending->wakeup.expires_at(exchange.deadline);

  // No address_configured flag: it drops ::1 on hosts with only loopback IPv6.
  auto flags = tcp::resolver::numeric_service;
  if (url.ipHost()) {
    flags |= tcp::resolver::numeric_host;
  }
  pending->resolver.async_resolve(
      url.host, std::to_string(url.port), flags,
      asio::bind_executor(
          executor, [pending](const error_code& error, tcp::resolver::results_type endpoints) {
            pending->finished = true;
            pending->error = error;
            pending->endpoints = std::move(endpoints);
            pending->wakeup.cancel();
          }));

  auto [waitError] = co_await pending->wakeup.async_wait(kUseTuple);
  if (pending->finished) {
    if (pending->error) {
      co_return failFromError(exchange, pending->error);
    }
    co_return std::move(pending->endpoints);
  }
  pending->resolver.cancel();
  co_return failFromError(exchange, waitError ? error_code(asio::error::operation_aborted)
                                              : error_code(beast::error::timeout));
}

// Reads the final response, skipping interim 1xx responses.
asio::awaitable<Result<HttpResponse>> readResponse(TlsStream& stream, const HttpRequest& request,
                                                   const Exchange& exchange) {
  beast::flat_buffer buffer;
  for (int interim = 0;; ++interim) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(exchange.maxBodyBytes);
    parser.skip(request.method == "HEAD");

    beast::get_lowest_layer(stream).expires_at(exchange.deadline);
    auto [readError, bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (readError) {
      co_return failFromError(exchange, readError);
    }

    auto& message = parser.get();
    int status = message.result_int();
    if (status / 100 == 1 && status != 101) {
      if (interim == kMaxInterimResponses) {
        co_return exchange.fail(StatusCode::kDataLoss, "too many interim 1xx responses");
      }
      continue;
    }

    HttpResponse response;
    response.status = status;
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    co_return response;
  }
}

// The exchange itself: every failure comes back as a Status, and exceptions
// only escape on cancellation or allocation failure (sendRequest maps them).
asio::awaitable<Result<HttpResponse>> exchangeOnce(const HttpRequest& request,
                                                   const TlsClientProfile& profile,
                                                   const RequestOptions& options,
                                                   Exchange& exchange) {
  Result<RequestHeader> header = buildHeader(request, exchange);
  if (!header.ok()) {
    co_return header.status();
  }
  exchange.step = "tls setup";
  Result<SslCtxPtr> sslContext = profile.makeContext(request.url);
  if (!sslContext.ok()) {
    co_return sslContext.status().withContext(exchange.label + ": tls setup");
  }
  // The Asio context takes ownership and frees the SSL_CTX with the stream.
  asio::ssl::context tlsContext(sslContext->release());

  exchange.step = "resolve";
  auto endpoints = co_await resolve(request.url, exchange);
  if (!endpoints.ok()) {
    co_return endpoints.status();
  }

  exchange.step = "connect";
  auto executor = co_await asio::this_coro::executor;
  TlsStream stream(executor, tlsContext);
  beast::tcp_stream& tcpStream = beast::get_lowest_layer(stream);
  tcpStream.expires_at(exchange.deadline);
  auto [connectError, endpoint] = co_await tcpStream.async_connect(*endpoints, kUseTuple);
  if (connectError) {
    co_return failFromError(exchange, connectError);
  }
  // The header and the body go out in two writes. Without TCP_NODELAY, Nagle's
  // algorithm delays the body until the header is acknowledged, and a delayed
  // ACK makes that tens of milliseconds.
  error_code noDelayError;
  tcpStream.socket().set_option(tcp::no_delay(true), noDelayError);

  exchange.step = "tls handshake";
  if (Status status = prepareTls(stream.native_handle(), request.url, profile.checkHostName());
      !status.ok()) {
    co_return status.withContext(exchange.label + ": tls handshake");
  }
  tcpStream.expires_at(exchange.deadline);
  auto [handshakeError] =
      co_await stream.async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (handshakeError) {
    co_return handshakeFailure(exchange, handshakeError, profile, tlsContext.native_handle());
  }

  if (options.beforeSend) {
    exchange.step = "before send";
    Status status = co_await options.beforeSend();
    if (!status.ok()) {
      co_return status.withContext(exchange.label + ": before send");
    }
  }

  exchange.step = "write";
  tcpStream.expires_at(exchange.deadline);
  http::request_serializer<http::empty_body> serializer(*header);
  auto [headerError, headerBytes] =
      co_await http::async_write_header(stream, serializer, kUseTuple);
  if (headerError) {
    co_return failFromError(exchange, headerError);
  }
  // The body goes out in a write of its own, straight from the caller's
  // buffer: Beast's ssl_stream copies only when it merges several small
  // buffers. OpenSSL still copies the plaintext into its record buffer to
  // encrypt it, a transient copy this code cannot wipe.
  if (!request.body.empty()) {
    tcpStream.expires_at(exchange.deadline);
    auto [bodyError, bodyBytes] =
        co_await asio::async_write(stream, asio::buffer(request.body), kUseTuple);
    if (bodyError) {
      co_return failFromError(exchange, bodyError);
    }
  }

  exchange.step = "read";
  co_return co_await readResponse(stream, request, exchange);
}

void logOutcome(const Exchange& exchange, const Result<HttpResponse>& result) {
  if (!logger().debugEnabled()) {
    return;
  }
  long long elapsedMs = toMilliseconds(Clock::now() - exchange.start);
  if (result.ok()) {
    logger().debug("https response received", {{"request", exchange.label},
                                               {"status", result->status},
                                               {"body_bytes", result->body.size()},
                                               {"elapsed_ms", elapsedMs}});
  } else {
    logger().debug("https request failed", {{"request", exchange.label},
                                            {"error", result.status().toString()},
                                            {"elapsed_ms", elapsedMs}});
  }
}

// Keeps printable ASCII of an error body, so a log line stays one valid line.
std::string quoteBody(std::string_view body) {
  std::string text;
  std::size_t size = std::min(body.size(), kMaxQuotedBodyBytes);
  for (char c : body.substr(0, size)) {
    text += (c >= ' ' && c < 0x7f) ? c : '?';
  }
  if (body.size() > size) {
    text += "...";
  }
  return text;
}

StatusCode codeForHttpStatus(int status) {
  if (status == 429 || (status >= 500 && status <= 599)) {
    return StatusCode::kUnavailable;
  }
  switch (status) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAborted;
    default:
      break;
  }
  if (status >= 300 && status <= 399) {
    return StatusCode::kFailedPrecondition;
  }
  if (status >= 400 && status <= 499) {
    return StatusCode::kInvalidArgument;
  }
  return StatusCode::kDataLoss;
}

}  // namespace

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

asio::awaitable<Result<HttpResponse>> sendRequest(HttpRequest request,
                                                  const TlsClientProfile& profile,
                                                  RequestOptions options) {
  Exchange exchange;
  exchange.label = request.method + " " + request.url.toString();
  exchange.start = Clock::now();
  exchange.timeout = options.timeout;
  // A timeout of duration::max() means "no deadline" and must not overflow.
  if (options.timeout >= Clock::time_point::max() - exchange.start) {
    exchange.deadline = Clock::time_point::max();
  } else {
    exchange.deadline = exchange.start + options.timeout;
  }
  exchange.maxBodyBytes = options.maxBodyBytes;

  Result<HttpResponse> result = Status(StatusCode::kInternal, "request not run");
  try {
    result = co_await exchangeOnce(request, profile, options, exchange);
  } catch (const boost::system::system_error& error) {
    // Asio throws operation_aborted from the first co_await after the
    // awaiting coroutine was cancelled.
    result = failFromError(exchange, error.code());
  } catch (const std::exception& error) {
    result = exchange.fail(StatusCode::kInternal, error.what());
  }
  logOutcome(exchange, result);
  co_return result;
}

Status statusFromHttp(const HttpResponse& response) {
  if (response.status >= 200 && response.status <= 299) {
    return okStatus();
  }
  std::string message = "HTTP " + std::to_string(response.status);
  std::string_view reason = http::obsolete_reason(http::int_to_status(response.status));
  if (reason != "<unknown-status>") {
    message += ' ';
    message += reason;
  }
  if (response.status >= 300 && response.status <= 399) {
    message += " (not followed, Location \"";
    message += quoteBody(response.header("Location"));
    message += "\")";
  }
  if (!response.body.empty()) {
    message += ": ";
    message += quoteBody(response.body);
  }
  return Status(codeForHttpStatus(response.status), std::move(message));
}

}  // namespace spike_bootstrap::net
