// ApiClient: authenticated calls to the Kubernetes API server with bounded
// retries, and ApiError, the Kubernetes Status of a failed call.
//
// Every attempt re-reads the ServiceAccount token, dials a new TLS connection
// checked against the cluster CA and the API server's host name or IP, and
// never follows a redirect. Resource-specific calls live in
// configmap_client.h and event_recorder.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/kube/in_cluster.h"
#include "spike_bootstrap/net/backoff.h"
#include "spike_bootstrap/net/tls_profile.h"

namespace spike_bootstrap::kube {

// A failed API call: the Status for callers and operators, plus the parts of
// the API server's Status object that decide what to do next.
struct ApiError {
  // Code from the HTTP status (404 NotFound, 409 AlreadyExists or Aborted
  // for a conflict, 401 Unauthenticated, 403 PermissionDenied, 429 and 5xx
  // Unavailable, 3xx FailedPrecondition) or from the transport failure. The
  // message names the verb, the object, the API server and what to check.
  Status status;
  int httpStatus = 0;    // 0 when no HTTP response came back
  std::string reason;    // Status.reason ("NotFound", "Conflict", ...), "" when absent
  std::string verb;      // RBAC verb of the request: get, create, update, patch
  std::string resource;  // "configmaps", "events"
  std::string name;      // object name, "" for a create
  // For writes: an earlier attempt ended with a transport failure or a 5xx
  // response, so the API server may have applied it. A later Conflict or
  // AlreadyExists may then be caused by our own write: read the object back.
  bool mayHaveApplied = false;

  // True only for an HTTP 404 carrying a Kubernetes Status with reason
  // NotFound for this very object. A bare 404 (from a proxy, or a wrong URL)
  // is not proof that the object is absent.
  bool notFound() const { return httpStatus == 404 && reason == "NotFound"; }
  bool alreadyExists() const { return httpStatus == 409 && reason == "AlreadyExists"; }
  // The resourceVersion in the request no longer matches the stored object.
  bool conflict() const { return httpStatus == 409 && reason == "Conflict"; }
  bool forbidden() const { return httpStatus == 403; }
  bool unauthorized() const { return httpStatus == 401; }
};

// Holds either a value or an ApiError.
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Returns the failure. Calling it on a result with a value aborts.
  const ApiError& error() const { return std::get<ApiError>(state_); }
  // Returns the failure as a Status, or OK when the result has a value.
  Status status() const { return ok() ? Status() : error().status; }

 private:
  std::variant<T, ApiError> state_;
};

struct ApiClientOptions {
  // Deadline for one attempt: connect, handshake, request and response.
  std::chrono::steady_clock::duration attemptTimeout = std::chrono::seconds(10);
  // Retries of 429, 5xx and transport failures. Retry-After on a 429 or 503
  // stretches a delay up to retry.maxInterval.
  net::BackoffPolicy retry{.initialInterval = std::chrono::milliseconds(250),
                           .maxInterval = std::chrono::seconds(5),
                           .multiplier = 2.0,
                           .randomization = 0.5,
                           .maxAttempts = 6,
                           .maxElapsed = std::chrono::seconds(30)};
  // No attempt or retry delay reaches past this time (for example the run's
  // deadline); nullopt for none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // A ConfigMap contains at most 1 MiB of data, so its JSON stays below 2 MiB.
  std::size_t maxBodyBytes = 2 * 1024 * 1024;
  std::string userAgent = "spike-bootstrap";
};

// One API request. path starts with "/api/"; verb, resource, name and
// namespaceName only describe the request in errors and logs.
struct ApiRequest {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string contentType = "application/json";
  std::string verb;
  std::string resource;
  std::string name;
  std::string namespaceName;
  // Overrides options.retry.maxAttempts when above 0.
  int maxAttempts = 0;
};

// Builds the ApiError for a non-2xx response to request. Reason and code come
// from a Kubernetes Status body when there is one, and the message names what
// to check (the missing RBAC verb for 403, the token for 401).
ApiError apiErrorFromResponse(const ApiRequest& request, int httpStatus, std::string_view body,
                              std::string_view apiServer);

// Use from one io_context thread at a time; it keeps no state between calls
// apart from its configuration.
class ApiClient {
 public:
  explicit ApiClient(InClusterConfig config, ApiClientOptions options = {});

  const InClusterConfig& config() const { return config_; }
  const ApiClientOptions& options() const { return options_; }

  // Sends request and returns the body of a 2xx response. Retries 429, 5xx,
  // Unavailable and DeadlineExceeded within options().retry and
  // options().deadline; anything else fails at once. Errors:
  //   an HTTP response    status code as documented on ApiError::status,
  //                       reason and code from the body's Status object;
  //   token unreadable    FailedPrecondition (see InClusterConfig::readToken);
  //   transport failure   the code net::sendRequest returned (Unavailable,
  //                       DeadlineExceeded, PermissionDenied for a rejected
  //                       server certificate, DataLoss, Cancelled);
  //   deadline passed     DeadlineExceeded.
  boost::asio::awaitable<ApiResult<std::string>> call(ApiRequest request) const;

 private:
  InClusterConfig config_;
  net::CaTlsProfile profile_;
  ApiClientOptions options_;
  logging::Logger logger_{"kube"};
};

}  // namespace spike_bootstrap::kube
