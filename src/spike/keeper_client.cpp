// Share delivery to one keeper: request building, retries, attempt logging.
#include "spike_bootstrap/spike/keeper_client.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/sleep.h"
#include "spike_bootstrap/net/backoff.h"
#include "spike_bootstrap/net/https_client.h"
#include "spike_bootstrap/spike/wire.h"

namespace spike_bootstrap::spike {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;

const logging::Logger& keeperLog() {
  static const logging::Logger logger("keeper");
  return logger;
}

// Re-sending a share is harmless (the keeper stores the same bytes again), so
// everything but a clear "no" from the keeper or from TLS authorization is
// worth another attempt.
bool worthRetrying(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

// Says what the operator should check for a final failure.
std::string adviceFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kPermissionDenied:
      return "check SPIKE_NEXUS_KEEPER_PEERS and SPIKE_TRUST_ROOT_KEEPER: the server at this URL "
             "is not a SPIKE Keeper we trust";
    case StatusCode::kUnauthenticated:
      return "the keeper does not accept our SPIFFE ID: check its SPIKE_TRUST_ROOT_BOOTSTRAP";
    case StatusCode::kInvalidArgument:
      return "the keeper rejected the request body: check that keeper and bootstrap versions match";
    default:
      return "check that the keeper is running and reachable from this pod";
  }
}

// Runs one POST and turns transport and HTTP failures into one Status.
boost::asio::awaitable<Status> attemptDelivery(const net::Url& url, std::string_view body,
                                               const net::TlsClientProfile& profile,
                                               nanoseconds timeout,
                                               std::function<boost::asio::awaitable<Status>()> hook) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  net::RequestOptions options;
  options.timeout = duration_cast<steady_clock::duration>(timeout);
  options.beforeSend = std::move(hook);

  Result<net::HttpResponse> response = co_await net::sendRequest(request, profile, options);
  if (!response.ok()) {
    co_return response.status();
  }
  // The body is never quoted: a broken keeper may echo the request, and the
  // request carries the share.
  OPENSSL_cleanse(response->body.data(), response->body.size());
  if (response->status == 200) {
    co_return Status();
  }
  Status classified = net::statusFromHttp(*response);
  StatusCode code = classified.ok() ? StatusCode::kInvalidArgument : classified.code();
  co_return Status(code, fmt::format("keeper answered HTTP {} (expected 200)", response->status));
}

}  // namespace

KeeperRetrySettings keeperRetrySettings(const config::Config& config) {
  KeeperRetrySettings settings;
  settings.timeout = config.keeperTimeout;
  settings.maxAttempts = config.keeperMaxRetries;
  settings.initialInterval = config.keeperRetryInitialInterval;
  settings.maxInterval = config.keeperRetryMaxInterval;
  return settings;
}

boost::asio::awaitable<KeeperOutcome> deliverShare(config::KeeperPeer peer,
                                                   crypto::KeeperShare share,
                                                   const net::TlsClientProfile& profile,
                                                   KeeperRetrySettings settings,
                                                   BeforeShareSent beforeSend) {
  KeeperOutcome outcome;
  outcome.keeperId = peer.id;
  outcome.url = peer.url;
  Result<net::Url> base = net::parseHttpsUrl(peer.url);
  if (!base.ok()) {
    outcome.lastError = base.status().withContext(fmt::format("keeper {}", peer.id));
    co_return outcome;
  }
  net::Url url = net::joinPath(*base, kContributePath);

  Result<crypto::SecretBytes> body = encodeContributeBody(share.value.span());
  share.value.wipe();
  if (!body.ok()) {
    outcome.lastError = body.status().withContext(fmt::format("keeper {}", peer.id));
    co_return outcome;
  }
  std::string_view bodyText(reinterpret_cast<const char*>(body->data()), body->size());

  net::Backoff backoff(net::BackoffPolicy{.initialInterval = settings.initialInterval,
                                          .maxInterval = settings.maxInterval,
                                          .maxAttempts = settings.maxAttempts,
                                          .maxElapsed = settings.timeout});
  const auto started = steady_clock::now();
  const std::string attemptsText =
      settings.maxAttempts > 0 ? std::to_string(settings.maxAttempts) : "unlimited";

  while (true) {
    outcome.attempts = backoff.attempt();
    nanoseconds attemptTimeout =
        net::attemptTimeout(settings.timeout, started, settings.attemptTimeout);
    auto hook = [&]() -> boost::asio::awaitable<Status> {
      // Write-ahead: count the keeper before any byte of its share leaves.
      outcome.possiblyDelivered = true;
      if (beforeSend) {
        co_return co_await beforeSend(peer.id);
      }
      co_return Status();
    };

    Status status = co_await attemptDelivery(url, bodyText, profile, attemptTimeout, hook);
    const std::string attemptText = fmt::format("{}/{}", outcome.attempts, attemptsText);
    if (status.ok()) {
      outcome.acknowledged = true;
      outcome.lastError = Status();
      keeperLog().info("keeper stored its share",
                       {{"keeper_id", peer.id}, {"url", peer.url}, {"attempt", attemptText}});
      co_return outcome;
    }

    outcome.lastError = status;
    if (status.code() == StatusCode::kCancelled) {
      co_return outcome;
    }
    std::optional<nanoseconds> delay;
    if (worthRetrying(status)) {
      delay = backoff.nextDelay();
    }
    if (!delay) {
      std::string why = worthRetrying(status) ? "attempts or time used up" : "not retryable";
      keeperLog().error("keeper delivery failed",
                        {{"keeper_id", peer.id},
                         {"url", peer.url},
                         {"attempt", attemptText},
                         {"error", status.toString()},
                         {"stopped_because", why},
                         {"check", adviceFor(status)}});
      co_return outcome;
    }
    keeperLog().warn("keeper attempt failed, retrying",
                     {{"keeper_id", peer.id},
                      {"url", peer.url},
                      {"attempt", attemptText},
                      {"error", status.toString()},
                      {"next_delay_ms", duration_cast<milliseconds>(*delay).count()}});
    if (!(co_await sleepFor(*delay)).ok()) {
      outcome.lastError = Status(StatusCode::kCancelled, "delivery cancelled");
      co_return outcome;
    }
  }
}

}  // namespace spike_bootstrap::spike
