// Verification and preflight requests to SPIKE Nexus.
#include "spike_bootstrap/spike/nexus_client.h"

#include <algorithm>

#include <fmt/format.h>
#include <openssl/rand.h>

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

const logging::Logger& nexusLog() {
  static const logging::Logger logger("nexus");
  return logger;
}

// Keeps log lines short when Nexus returns a page of HTML or a stack trace.
std::string shortBody(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string text = body.size() <= kMax ? body : body.substr(0, kMax) + "...";
  // Peer bytes end up in log lines and the termination log: no control
  // characters, so a peer cannot forge a line or send terminal escapes.
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return text;
}

boost::asio::awaitable<Result<net::HttpResponse>> postVerify(const net::Url& url,
                                                             const std::string& body,
                                                             const net::TlsClientProfile& profile,
                                                             nanoseconds timeout) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  net::RequestOptions options;
  options.timeout = duration_cast<steady_clock::duration>(timeout);
  co_return co_await net::sendRequest(request, profile, options);
}

// Classifies one verify answer. Returns nullopt when the caller should retry.
std::optional<VerifyOutcome> judgeAnswer(const Result<net::HttpResponse>& response,
                                         const std::string& expectedHash, int attempt) {
  if (!response.ok()) {
    const Status& status = response.status();
    if (status.retryable() || status.code() == StatusCode::kDataLoss) {
      return std::nullopt;
    }
    return VerifyOutcome{VerifyResult::kFailed, attempt, status};
  }
  if (response->status == 401) {
    return VerifyOutcome{VerifyResult::kFailed, attempt,
                         Status(StatusCode::kUnauthenticated,
                                "SPIKE Nexus answered 401: it does not accept our SPIFFE ID; check "
                                "that Nexus's SPIKE_TRUST_ROOT_BOOTSTRAP lists our trust domain")};
  }
  Status httpStatus = net::statusFromHttp(*response);
  if (!httpStatus.ok()) {
    if (httpStatus.retryable()) {
      return std::nullopt;
    }
    return VerifyOutcome{VerifyResult::kFailed, attempt, httpStatus};
  }

  Result<std::string> hash = decodeVerifyResponse(response->body);
  if (!hash.ok()) {
    return VerifyOutcome{VerifyResult::kFailed, attempt,
                         hash.status().withContext("SPIKE Nexus sent an unreadable verify answer")};
  }
  if (*hash != expectedHash) {
    return VerifyOutcome{
        VerifyResult::kHashMismatch, attempt,
        Status(StatusCode::kFailedPrecondition,
               "SPIKE Nexus opened the probe to a different plaintext: it holds another root key "
               "than the one just given to the keepers")};
  }
  return VerifyOutcome{VerifyResult::kVerified, attempt, Status()};
}

std::string describeAnswer(const Result<net::HttpResponse>& response) {
  if (!response.ok()) {
    return response.status().toString();
  }
  return fmt::format("HTTP {} {}", response->status, shortBody(response->body));
}

}  // namespace

boost::asio::awaitable<VerifyOutcome> verifyRootKey(std::string nexusUrl,
                                                    crypto::SealedProbe probe,
                                                    const net::TlsClientProfile& profile,
                                                    VerifySettings settings) {
  Result<net::Url> base = net::parseHttpsUrl(nexusUrl);
  if (!base.ok()) {
    co_return VerifyOutcome{VerifyResult::kFailed, 0, base.status()};
  }
  const net::Url url = net::joinPath(*base, kVerifyPath);
  const std::string body = encodeVerifyRequest(probe);

  net::Backoff backoff(net::BackoffPolicy{.initialInterval = settings.initialInterval,
                                          .maxInterval = settings.maxInterval,
                                          .maxElapsed = settings.timeout});
  const auto started = steady_clock::now();
  while (true) {
    nanoseconds attemptTimeout =
        net::attemptTimeout(settings.timeout, started, settings.attemptTimeout);
    const int attempt = backoff.attempt();
    Result<net::HttpResponse> response = co_await postVerify(url, body, profile, attemptTimeout);
    if (!response.ok() && response.status().code() == StatusCode::kCancelled) {
      co_return VerifyOutcome{VerifyResult::kFailed, attempt, response.status()};
    }

    std::optional<VerifyOutcome> outcome = judgeAnswer(response, probe.expectedHash, attempt);
    if (outcome) {
      co_return *outcome;
    }
    std::optional<nanoseconds> delay = backoff.nextDelay();
    if (!delay) {
      co_return VerifyOutcome{
          VerifyResult::kFailed, attempt,
          Status(StatusCode::kDeadlineExceeded,
                 fmt::format("SPIKE Nexus did not verify the root key within "
                             "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT; last answer: {}",
                             describeAnswer(response)))};
    }
    nexusLog().info("SPIKE Nexus not ready yet, retrying",
                    {{"url", url.toString()},
                     {"attempt", attempt},
                     {"answer", describeAnswer(response)},
                     {"next_delay_ms", duration_cast<milliseconds>(*delay).count()}});
    if (!(co_await sleepFor(*delay)).ok()) {
      co_return VerifyOutcome{VerifyResult::kFailed, attempt,
                              Status(StatusCode::kCancelled, "verification cancelled")};
    }
  }
}

boost::asio::awaitable<NexusPreflight> preflightNexus(std::string nexusUrl,
                                                      const net::TlsClientProfile& profile,
                                                      std::chrono::nanoseconds timeout) {
  Result<net::Url> base = net::parseHttpsUrl(nexusUrl);
  if (!base.ok()) {
    co_return NexusPreflight{NexusState::kUndetermined, 0, base.status().toString()};
  }
  // A probe under a throw-away key: Nexus cannot open it, and nothing about
  // the real root key is sent.
  crypto::SecretBytes throwAwayKey(crypto::kProbeKeySize);
  if (RAND_priv_bytes(throwAwayKey.data(), static_cast<int>(throwAwayKey.size())) != 1) {
    co_return NexusPreflight{NexusState::kUndetermined, 0, "could not draw a random probe key"};
  }
  Result<crypto::SealedProbe> probe = crypto::sealProbe(throwAwayKey);
  if (!probe.ok()) {
    co_return NexusPreflight{NexusState::kUndetermined, 0, probe.status().toString()};
  }

  net::HttpRequest request;
  request.url = net::joinPath(*base, kVerifyPath);
  const std::string body = encodeVerifyRequest(*probe);
  request.body = body;
  net::RequestOptions options;
  options.timeout = duration_cast<steady_clock::duration>(timeout);
  bool handshakeCompleted = false;
  options.beforeSend = [&handshakeCompleted]() -> boost::asio::awaitable<Status> {
    handshakeCompleted = true;
    co_return Status();
  };
  Result<net::HttpResponse> response = co_await net::sendRequest(request, profile, options);

  if (!response.ok()) {
    const Status& status = response.status();
    if (status.code() == StatusCode::kPermissionDenied) {
      co_return NexusPreflight{NexusState::kNotNexus, 0, status.toString()};
    }
    NexusState state = handshakeCompleted ? NexusState::kUndetermined : NexusState::kNotServing;
    co_return NexusPreflight{state, 0, status.toString()};
  }
  // 503 is what a Nexus without a root key answers while it waits for keepers.
  NexusState state = response->status == 503 ? NexusState::kNotServing : NexusState::kHasRootKey;
  co_return NexusPreflight{state, response->status, describeAnswer(response)};
}

}  // namespace spike_bootstrap::spike
