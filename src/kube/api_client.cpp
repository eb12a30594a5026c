// ApiClient: bearer-token requests to the API server, Kubernetes Status
// errors, and the retry loop for 429, 5xx and transport failures.
#include "spike_bootstrap/kube/api_client.h"

#include <algorithm>
#include <charconv>

#include <rapidjson/document.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "spike_bootstrap/net/https_client.h"

// GCC 12 inlines Asio's coroutine frame allocation (aligned_alloc) and then
// flags the matching aligned delete as -Wmismatched-new-delete. The pair is
// correct, so the warning is a false positive; it is silenced for GCC 12 only.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace spike_bootstrap::kube {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How much of a body that is not a Status object goes into a message.
constexpr std::size_t kMaxQuotedBodyBytes = 200;

struct KubernetesStatus {
  std::string reason;
  std::string message;
  std::string detailsName;
  std::string detailsKind;
  bool present = false;
};

std::string stringMember(const rapidjson::Value& object, const char* key) {
  auto member = object.FindMember(key);
  if (member == object.MemberEnd() || !member->value.IsString()) {
    return "";
  }
  return std::string(member->value.GetString(), member->value.GetStringLength());
}

// Reads a Status object ({"kind":"Status","reason":...,"message":...}); the
// API server sends one with every error (Kubernetes API conventions, "Response
// Status Kind").
KubernetesStatus parseKubernetesStatus(std::string_view body) {
  KubernetesStatus status;
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject() ||
      stringMember(document, "kind") != "Status") {
    return status;
  }
  status.present = true;
  status.reason = stringMember(document, "reason");
  status.message = stringMember(document, "message");
  auto details = document.FindMember("details");
  if (details != document.MemberEnd() && details->value.IsObject()) {
    status.detailsName = stringMember(details->value, "name");
    status.detailsKind = stringMember(details->value, "kind");
  }
  return status;
}

StatusCode codeForHttp(int httpStatus, std::string_view reason) {
  if (httpStatus >= 300 && httpStatus < 400) {
    return StatusCode::kFailedPrecondition;
  }
  if (httpStatus == 429 || httpStatus >= 500) {
    return StatusCode::kUnavailable;
  }
  switch (httpStatus) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted;
    case 410:
      return StatusCode::kFailedPrecondition;
    default:
      return StatusCode::kInvalidArgument;
  }
}

std::string describeTarget(const ApiRequest& request) {
  std::string target = request.resource;
  if (!request.name.empty()) {
    target += " \"" + request.name + "\"";
  }
  if (!request.namespaceName.empty()) {
    target += " in namespace " + request.namespaceName;
  }
  return target;
}

// Returns what an operator should check after a response with this status.
std::string hintFor(const ApiRequest& request, int httpStatus) {
  if (httpStatus == 403) {
    std::string hint = "the ServiceAccount lacks RBAC permission: add verb \"" + request.verb +
                       "\" on resource \"" + request.resource + "\" to a Role in namespace " +
                       request.namespaceName + " and bind it to the ServiceAccount";
    if (request.verb == "create") {
      hint += " (RBAC cannot limit create to one resource name)";
    }
    return hint;
  }
  if (httpStatus == 401) {
    return "the API server rejected the ServiceAccount token: check that the ServiceAccount "
           "exists and that its token is mounted and current";
  }
  if (httpStatus >= 300 && httpStatus < 400) {
    return "redirects are not followed: KUBERNETES_SERVICE_HOST must name the API server itself";
  }
  return "";
}

// Retry-After in whole seconds (RFC 9110 section 10.2.3); the HTTP-date form
// is ignored.
std::optional<std::chrono::seconds> retryAfter(const net::HttpResponse& response) {
  std::string_view text = response.header("Retry-After");
  long long seconds = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::min(seconds, 3600LL));
}

bool isWrite(const ApiRequest& request) { return request.method != "GET"; }

ApiError transportError(const ApiRequest& request, const Status& status,
                        std::string_view apiServer) {
  ApiError error;
  error.status = status.withContext(request.verb + " " + describeTarget(request) + " at " +
                                    std::string(apiServer));
  error.verb = request.verb;
  error.resource = request.resource;
  error.name = request.name;
  return error;
}

// Waits for delay; false when the wait was cancelled.
asio::awaitable<bool> sleepFor(Clock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !error;
}

}  // namespace

ApiError apiErrorFromResponse(const ApiRequest& request, int httpStatus, std::string_view body,
                              std::string_view apiServer) {
  KubernetesStatus kubeStatus = parseKubernetesStatus(body);

  ApiError error;
  error.httpStatus = httpStatus;
  error.verb = request.verb;
  error.resource = request.resource;
  error.name = request.name;
  error.reason = kubeStatus.reason;
  // A NotFound must be about this object; otherwise the 404 came from
  // somewhere else (a proxy, a wrong path) and proves nothing.
  if (httpStatus == 404 && kubeStatus.reason == "NotFound" && !request.name.empty() &&
      (kubeStatus.detailsName != request.name || kubeStatus.detailsKind != request.resource)) {
    error.reason.clear();
  }

  std::string message = request.verb + " " + describeTarget(request) + " at " +
                        std::string(apiServer) + ": HTTP " + std::to_string(httpStatus);
  if (!kubeStatus.reason.empty()) {
    message += " " + kubeStatus.reason;
  }
  if (kubeStatus.present && !kubeStatus.message.empty()) {
    message += ": " + kubeStatus.message;
  } else if (!kubeStatus.present && !body.empty()) {
    message += ": body \"" + std::string(body.substr(0, kMaxQuotedBodyBytes)) + "\"";
  }
  if (httpStatus == 404 && error.reason.empty()) {
    message += " (not a Kubernetes NotFound status for this object)";
  }
  if (std::string hint = hintFor(request, httpStatus); !hint.empty()) {
    message += "; " + hint;
  }
  error.status = Status(codeForHttp(httpStatus, error.reason), std::move(message));
  return error;
}

ApiClient::ApiClient(InClusterConfig config, ApiClientOptions options)
    : config_(std::move(config)), profile_(config_.caPem()), options_(std::move(options)) {}

asio::awaitable<ApiResult<std::string>> ApiClient::call(ApiRequest request) const {
  net::BackoffPolicy policy = options_.retry;
  if (request.maxAttempts > 0) {
    policy.maxAttempts = request.maxAttempts;
  }
  net::Backoff backoff(policy);
  std::string apiServer = config_.apiServer().toString();
  bool mayHaveApplied = false;

  while (true) {
    Clock::duration timeout = options_.attemptTimeout;
    if (options_.deadline) {
      timeout = std::min(timeout, *options_.deadline - Clock::now());
      if (timeout <= Clock::duration::zero()) {
        ApiError error = transportError(
            request, Status(StatusCode::kDeadlineExceeded, "the run's deadline passed"), apiServer);
        error.mayHaveApplied = mayHaveApplied;
        co_return error;
      }
    }

    Result<std::string> token = config_.readToken();
    if (!token.ok()) {
      co_return transportError(request, token.status(), apiServer);
    }

    net::HttpRequest http;
    http.method = request.method;
    http.url = net::joinPath(config_.apiServer(), request.path);
    http.headers = {{"Authorization", "Bearer " + *token},
                    {"Accept", "application/json"},
                    {"User-Agent", options_.userAgent}};
    http.contentType = request.contentType;
    http.body = request.body;
    net::RequestOptions requestOptions;
    requestOptions.timeout = timeout;
    requestOptions.maxBodyBytes = options_.maxBodyBytes;

    Result<net::HttpResponse> response =
        co_await net::sendRequest(std::move(http), profile_, std::move(requestOptions));

    ApiError error;
    std::optional<std::chrono::seconds> serverDelay;
    if (!response.ok()) {
      error = transportError(request, response.status(), apiServer);
      if (!response.status().retryable()) {
        error.mayHaveApplied = mayHaveApplied;
        co_return error;
      }
      // The request may have reached the API server before the failure.
      mayHaveApplied = mayHaveApplied || isWrite(request);
    } else if (response->status >= 200 && response->status < 300) {
      co_return std::move(response->body);
    } else {
      error = apiErrorFromResponse(request, response->status, response->body, apiServer);
      if (!error.status.retryable()) {
        error.mayHaveApplied = mayHaveApplied;
        co_return error;
      }
      // 429 means the request was not processed; a 5xx may come after the
      // write reached storage (for example a timeout from etcd).
      mayHaveApplied = mayHaveApplied || (isWrite(request) && response->status != 429);
      if (response->status == 429 || response->status == 503) {
        serverDelay = retryAfter(*response);
      }
    }
    error.mayHaveApplied = mayHaveApplied;

    std::optional<Clock::duration> delay = backoff.nextDelay();
    if (delay && serverDelay) {
      delay = std::max<Clock::duration>(
          *delay, std::min<Clock::duration>(*serverDelay, policy.maxInterval));
    }
    if (delay && options_.deadline && Clock::now() + *delay >= *options_.deadline) {
      delay.reset();
    }
    if (!delay) {
      error.status = error.status.withContext("giving up after " +
                                              std::to_string(backoff.attempt()) + " attempts");
      co_return error;
    }

    logger_.info(
        "retrying Kubernetes API request",
        {{"verb", request.verb},
         {"resource", request.resource},
         {"name", request.name},
         {"attempt", backoff.attempt() - 1},
         {"delay_ms", std::chrono::duration_cast<std::chrono::milliseconds>(*delay).count()},
         {"error", error.status.toString()}});
    if (!co_await sleepFor(*delay)) {
      error.status = Status(StatusCode::kCancelled, "cancelled while waiting to retry")
                         .withContext(request.verb + " " + describeTarget(request));
      co_return error;
    }
  }
}

}  // namespace spike_bootstrap::kube
