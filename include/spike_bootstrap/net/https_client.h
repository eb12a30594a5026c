// One HTTP/1.1 request over TLS, as a coroutine on the caller's io_context.
//
// No connection reuse: each request dials, handshakes with a fresh context from
// its TlsClientProfile, sends, reads a bounded response and closes. Redirects
// are returned, not followed. Beast stays inside the implementation.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/net/tls_profile.h"
#include "spike_bootstrap/net/url.h"

namespace spike_bootstrap::net {

using Header = std::pair<std::string, std::string>;

struct HttpRequest {
  std::string method = "POST";
  Url url;  // full URL, path included (see joinPath)
  std::vector<Header> headers;
  std::string contentType = "application/json";
  // Not owned: the caller keeps the bytes alive until the call returns and
  // wipes them when they are secret.
  std::string_view body;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;

  // Returns the first header with this name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct RequestOptions {
  // Deadline for the whole request: resolve, connect, handshake, write, read.
  // Time spent in beforeSend counts, but the deadline does not interrupt it.
  // duration::max() means no deadline.
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
  // Responses with a larger body fail with DataLoss.
  std::size_t maxBodyBytes = 64 * 1024;
  // Runs after the TLS handshake succeeded and before the first byte of the
  // request is written. A failed Status aborts the request unsent and comes
  // back with its own code.
  std::function<boost::asio::awaitable<Status>()> beforeSend;
};

// Sends the request and returns the response, whatever its status code.
// Transport failures come back as a Status whose message names the method,
// the URL and the failing step ("POST https://k1:8443/v1/store/contribute:
// connect: Connection refused"), never the body:
//   Unavailable       name not resolvable (yet), connection refused or reset,
//                     connection closed before the response was complete,
//                     TLS handshake failure that was not a peer rejection
//   DeadlineExceeded  options.timeout passed
//   PermissionDenied  the profile rejected the peer's certificate (final)
//   DataLoss          response body over options.maxBodyBytes, header over
//                     16 KiB, malformed HTTP
//   InvalidArgument   method, path or header not valid HTTP (nothing is sent)
//   Cancelled         the awaiting coroutine got a terminal cancellation (the
//                     kind Asio's default filter passes on); the connection is
//                     closed at once
// Interim 1xx responses are skipped. Await it on a single-threaded io_context
// or a strand. profile must outlive the call. The coroutine cannot be
// co_spawn'ed directly, because co_spawn needs a default-constructible result
// type: co_await it from a coroutine of your own.
boost::asio::awaitable<Result<HttpResponse>> sendRequest(HttpRequest request,
                                                         const TlsClientProfile& profile,
                                                         RequestOptions options);

// Maps an HTTP status to a Status for callers that want one rule:
//   2xx OK; 429 and 5xx Unavailable (retryable); 401 Unauthenticated;
//   403 PermissionDenied; 404 NotFound; 409 Aborted; 3xx FailedPrecondition
//   (redirects are not followed); other 4xx InvalidArgument; anything else
//   DataLoss.
// The message names the status, the Location of a redirect and up to 200
// bytes of the response body, with bytes outside printable ASCII as '?'.
Status statusFromHttp(const HttpResponse& response);

}  // namespace spike_bootstrap::net
