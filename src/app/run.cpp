// The bootstrap run: identity, key, shares, verification, summary.
//
// Everything runs as coroutines on one io_context. runBootstrap() owns the
// io_context, the signal handler and the whole-run deadline; BootstrapRun
// holds the steps. Secrets are wiped as soon as each is no longer needed:
// the root key right after the split and the probe seal, each share inside its
// keeper's delivery.
#include "spike_bootstrap/app/run.h"

#include <csignal>
#include <exception>
#include <optional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "spike_bootstrap/app/cli.h"
#include "spike_bootstrap/app/keeper_fanout.h"
#include "spike_bootstrap/app/kube_journal.h"
#include "spike_bootstrap/app/process.h"
#include "spike_bootstrap/app/run_journal.h"
#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/spiffe/spiffe_id.h"
#include "spike_bootstrap/spiffe/spiffe_tls.h"
#include "spike_bootstrap/spiffe/x509_source.h"
#include "spike_bootstrap/spike/keeper_client.h"
#include "spike_bootstrap/spike/nexus_client.h"

namespace spike_bootstrap::app {
namespace {

namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// After SIGTERM, the io_context is stopped if the run has not wound down by
// then; the process must exit within 2 s of the signal.
constexpr milliseconds kShutdownGrace{1500};

// Holds the io_context of a stopped run, deliberately never destroyed.
asio::io_context* abandonedContext = nullptr;

// How long recording the outcome (a Kubernetes Event) may delay the exit.
constexpr milliseconds kOutcomeReportWindow{3000};
constexpr milliseconds kOutcomeReportWindowAfterStop{300};

const logging::Logger& runLog() {
  static const logging::Logger logger("run");
  return logger;
}

RunSummary makeSummary(std::string outcome, int exitCode, std::string detail) {
  return RunSummary{.outcome = std::move(outcome), .exitCode = exitCode, .detail = std::move(detail)};
}

std::string describeFailedKeepers(const KeeperFanout& fanout) {
  std::string text;
  for (std::size_t index = 0; index < fanout.outcomes().size(); ++index) {
    const spike::KeeperOutcome& outcome = fanout.outcomes()[index];
    if (!fanout.finished(index) || outcome.acknowledged) {
      continue;
    }
    text += fmt::format("{}keeper {} ({}): {}", text.empty() ? "" : "; ", outcome.keeperId,
                        outcome.url, outcome.lastError.toString());
  }
  return text;
}

// How long the preflight waits for SPIKE Nexus. A Nexus that serves answers
// within milliseconds; one that is not up yet refuses or never answers.
constexpr std::chrono::seconds kPreflightTimeout{3};

RunSummary summaryFromDecision(const JournalDecision& decision) {
  switch (decision.verdict) {
    case Verdict::kProceed:
      break;
    case Verdict::kSkip:
      return makeSummary("skipped", kExitOk, decision.detail);
    case Verdict::kRefuse:
      return makeSummary("refused", kExitRefused, decision.detail);
    case Verdict::kFail:
      return makeSummary("failed", kExitRetryable, decision.detail);
  }
  return makeSummary("failed", kExitRetryable, "internal error: unknown journal verdict");
}

class BootstrapRun {
 public:
  BootstrapRun(const config::Config& config, std::unique_ptr<RunJournal> journal)
      : config_(config), journal_(std::move(journal)) {}

  // Runs every step and returns the summary. An exception reaches the
  // completion handler in runBootstrap(), which reports a failed run.
  asio::awaitable<RunSummary> run();

  // Stops the run: pending operations end with Cancelled.
  void cancel(std::string reason);

  // Reports the outcome (a pod Event in Kubernetes). Best effort.
  asio::awaitable<void> reportOutcome(RunSummary summary) {
    co_await journal_->reportOutcome(summary.outcome, formatSummary(summary));
  }

  bool cancelled() const { return cancelReason_.has_value(); }

 private:
  asio::awaitable<Status> obtainIdentity();
  asio::awaitable<std::optional<RunSummary>> refuseIfNexusHasKey();
  asio::awaitable<RunSummary> distributeAndVerify();
  asio::awaitable<RunSummary> finishVerified(KeeperFanout& fanout);
  RunSummary cancelledSummary() const;

  const config::Config& config_;
  std::unique_ptr<RunJournal> journal_;
  std::optional<std::string> cancelReason_;
  std::unique_ptr<spiffe::X509Source> source_;
  std::unique_ptr<spiffe::SpiffeTlsProfile> keeperProfile_;
  std::unique_ptr<spiffe::SpiffeTlsProfile> nexusProfile_;
  KeeperFanout* fanout_ = nullptr;
};

void BootstrapRun::cancel(std::string reason) {
  if (cancelReason_) {
    return;
  }
  cancelReason_ = std::move(reason);
  runLog().warn("stopping the run", {{"reason", *cancelReason_}});
  if (fanout_ != nullptr) {
    fanout_->cancel();
  }
  if (source_) {
    source_->stop();
  }
}

RunSummary BootstrapRun::cancelledSummary() const {
  return makeSummary("failed", kExitRetryable, "run stopped: " + cancelReason_.value_or("cancelled"));
}

asio::awaitable<Status> BootstrapRun::obtainIdentity() {
  spiffe::X509SourceOptions options;
  options.socketPath = config_.spiffeEndpointSocket;
  options.timeout = config_.spiffeSourceTimeout;
  source_ = std::make_unique<spiffe::X509Source>(std::move(options));

  Status started = co_await source_->start();
  if (!started.ok()) {
    co_return started.withContext("SPIFFE Workload API");
  }
  auto snapshot = source_->current();
  spiffe::RolePolicy bootstrapPolicy(spiffe::Role::kBootstrap, config_.trustRoots.bootstrap);
  Status identity = spiffe::checkOwnIdentity(snapshot->svid.id, bootstrapPolicy);
  if (!identity.ok()) {
    co_return identity;
  }
  runLog().info("obtained our SVID",
                {{"spiffe_id", snapshot->svid.id.toString()},
                 {"certificate_sha256", spiffe::certificateFingerprint(snapshot->svid.leaf())}});

  auto snapshots = source_->provider();
  keeperProfile_ = std::make_unique<spiffe::SpiffeTlsProfile>(snapshots, spiffe::Role::kKeeper,
                                                              config_.trustRoots.keeper);
  nexusProfile_ = std::make_unique<spiffe::SpiffeTlsProfile>(snapshots, spiffe::Role::kNexus,
                                                             config_.trustRoots.nexus);
  co_return Status();
}

// SPIKE Nexus serves only once it holds a root key, so any HTTP answer from
// its verify route means a bootstrap already happened. Re-keying then would
// orphan everything Nexus encrypted under the old key.
asio::awaitable<std::optional<RunSummary>> BootstrapRun::refuseIfNexusHasKey() {
  if (config_.force) {
    runLog().warn("SPIKE_BOOTSTRAP_FORCE is set: not checking whether SPIKE Nexus already runs");
    co_return std::nullopt;
  }
  spike::NexusPreflight preflight =
      co_await spike::preflightNexus(config_.nexusApiUrl, *nexusProfile_, kPreflightTimeout);
  switch (preflight.state) {
    case spike::NexusState::kNotServing:
      runLog().info("SPIKE Nexus is not serving yet, as expected before a bootstrap",
                    {{"url", config_.nexusApiUrl}, {"observed", preflight.observed}});
      co_return std::nullopt;
    case spike::NexusState::kNotNexus:
      co_return makeSummary(
          "failed", kExitRetryable,
          fmt::format("the server at SPIKE_NEXUS_API_URL {} is not SPIKE Nexus ({}), so it could "
                      "never verify the key; nothing was sent to the keepers. Check "
                      "SPIKE_NEXUS_API_URL and SPIKE_TRUST_ROOT_NEXUS",
                      config_.nexusApiUrl, preflight.observed));
    case spike::NexusState::kUndetermined:
      co_return makeSummary(
          "failed", kExitRetryable,
          fmt::format("could not tell whether SPIKE Nexus at {} already holds a root key: {}; "
                      "nothing was sent to the keepers",
                      config_.nexusApiUrl, preflight.observed));
    case spike::NexusState::kHasRootKey:
      break;
  }
  std::string detail = fmt::format(
      "SPIKE Nexus at {} already answers its verify route ({}), so it holds a root key; a new "
      "key would orphan the data encrypted under the current one. Nothing was sent to the "
      "keepers. If this deployment is bootstrapped, record it",
      config_.nexusApiUrl, preflight.observed);
  std::string hint = journal_->markCompletedHint();
  detail += hint.empty() ? "; to re-key anyway, set SPIKE_BOOTSTRAP_FORCE=true"
                         : ": " + hint + "; to re-key anyway, set SPIKE_BOOTSTRAP_FORCE=true";
  co_return makeSummary("refused", kExitRefused, detail);
}

asio::awaitable<RunSummary> BootstrapRun::run() {
  // Failures come back as Status values; nothing below should throw when the
  // run is cancelled.
  co_await asio::this_coro::throw_if_cancelled(false);

  JournalDecision decision = co_await journal_->decide();
  if (decision.verdict != Verdict::kProceed) {
    co_return summaryFromDecision(decision);
  }

  Status identity = co_await obtainIdentity();
  if (cancelled()) {
    co_return cancelledSummary();
  }
  if (!identity.ok()) {
    co_return makeSummary("failed", kExitRetryable, identity.toString());
  }

  if (auto refused = co_await refuseIfNexusHasKey()) {
    co_return *refused;
  }
  if (cancelled()) {
    co_return cancelledSummary();
  }

  JournalDecision claim = co_await journal_->claim();
  if (claim.verdict != Verdict::kProceed) {
    co_return summaryFromDecision(claim);
  }

  RunSummary summary = co_await distributeAndVerify();
  if (summary.exitCode != kExitOk) {
    co_await journal_->markFailed(summary.detail);
  }
  co_return summary;
}

asio::awaitable<RunSummary> BootstrapRun::distributeAndVerify() {
  const int threshold = config_.shamirThreshold;
  const int shares = config_.shamirShares;

  // The root key, its shares and the probe. The key is wiped right after.
  Result<crypto::SecretBytes> rootKey = crypto::generateRootKey();
  if (!rootKey.ok()) {
    co_return makeSummary("failed", kExitRetryable, rootKey.status().toString());
  }
  Result<std::vector<crypto::KeeperShare>> split = crypto::splitRootKey(*rootKey, threshold, shares);
  Result<crypto::SealedProbe> probe = crypto::sealProbe(*rootKey);
  rootKey->wipe();
  if (!split.ok() || !probe.ok()) {
    Status failure = !split.ok() ? split.status() : probe.status();
    co_return makeSummary("failed", kExitRetryable, failure.toString());
  }
  runLog().info("generated a root key and split it", {{"shares", shares}, {"threshold", threshold}});

  auto executor = co_await asio::this_coro::executor;
  KeeperFanout fanout(executor, config_.keeperPeers, *keeperProfile_,
                      spike::keeperRetrySettings(config_),
                      [this](int keeperId) { return journal_->recordPossibleDelivery(keeperId); });
  fanout_ = &fanout;
  fanout.start(std::move(*split));

  RunSummary summary;
  summary.keepersTotal = shares;
  bool reached = co_await fanout.waitForThreshold(threshold);
  if (!reached || cancelled()) {
    fanout.cancel();
    co_await fanout.waitForAll();
    fanout_ = nullptr;
    if (cancelled()) {
      summary = cancelledSummary();
    } else {
      summary = makeSummary(
          "failed", kExitRetryable,
          fmt::format("only {} of {} keepers stored their share, {} needed; SPIKE Nexus was not "
                      "asked to verify. Failed keepers: {}. Check that the keepers run, that "
                      "SPIKE_NEXUS_KEEPER_PEERS points at them and that their SPIFFE IDs match "
                      "SPIKE_TRUST_ROOT_KEEPER",
                      fanout.acknowledgedCount(), shares, threshold, describeFailedKeepers(fanout)));
    }
    summary.keepersTotal = shares;
    summary.keepersAcknowledged = fanout.acknowledgedCount();
    co_return summary;
  }
  runLog().info("threshold of keepers reached, verifying with SPIKE Nexus",
                {{"acknowledged", fanout.acknowledgedCount()}, {"threshold", threshold}});
  co_await journal_->markVerifying();

  spike::VerifySettings verifySettings;
  verifySettings.timeout = config_.initVerificationTimeout;
  spike::VerifyOutcome verified =
      co_await spike::verifyRootKey(config_.nexusApiUrl, std::move(*probe), *nexusProfile_,
                                    verifySettings);

  if (verified.result != spike::VerifyResult::kVerified) {
    fanout.cancel();
    co_await fanout.waitForAll();
    fanout_ = nullptr;
    if (cancelled()) {
      summary = cancelledSummary();
    } else if (verified.result == spike::VerifyResult::kHashMismatch) {
      summary = makeSummary("refused", kExitRefused,
                            verified.lastError.message() +
                                "; do not re-run: an operator must find out which key Nexus holds");
    } else {
      summary = makeSummary("failed", kExitRetryable,
                            "SPIKE Nexus verification failed: " + verified.lastError.toString());
    }
    summary.keepersTotal = shares;
    summary.keepersAcknowledged = fanout.acknowledgedCount();
    co_return summary;
  }
  co_return co_await finishVerified(fanout);
}

// Records completion, lets the remaining keepers finish within their own
// budget, and warns about each keeper that never stored its share.
asio::awaitable<RunSummary> BootstrapRun::finishVerified(KeeperFanout& fanout) {
  const int shares = config_.shamirShares;
  runLog().info("SPIKE Nexus verified the root key");

  Status recorded = co_await journal_->markCompleted();
  if (!recorded.ok()) {
    fanout.cancel();
    co_await fanout.waitForAll();
    fanout_ = nullptr;
    RunSummary summary = makeSummary(
        "refused", kExitRefused,
        "SPIKE Nexus verified the root key but completion could not be recorded (" +
            recorded.toString() + "); do not re-run, record it by hand: " +
            journal_->markCompletedHint());
    summary.keepersTotal = shares;
    summary.keepersAcknowledged = fanout.acknowledgedCount();
    co_return summary;
  }

  co_await fanout.waitForAll();
  fanout_ = nullptr;
  for (const spike::KeeperOutcome& outcome : fanout.outcomes()) {
    if (outcome.acknowledged) {
      co_await journal_->recordAcknowledged(outcome.keeperId);
      continue;
    }
    runLog().warn("keeper never stored its share; SPIKE Nexus re-syncs it once it runs",
                  {{"keeper_id", outcome.keeperId},
                   {"url", outcome.url},
                   {"error", outcome.lastError.toString()}});
  }
  RunSummary summary = makeSummary(
      "completed", kExitOk,
      fmt::format("SPIKE Nexus verified the root key; {} of {} keepers hold a share",
                  fanout.acknowledgedCount(), shares));
  summary.keepersTotal = shares;
  summary.keepersAcknowledged = fanout.acknowledgedCount();
  co_return summary;
}

}  // namespace

// The deadline every step shares: SPIKE_BOOTSTRAP_TIMEOUT, or a day when it
// is 0 (no limit), which keeps deadline arithmetic away from overflow.
steady_clock::time_point runDeadline(const config::Config& config, steady_clock::time_point start) {
  if (config.bootstrapTimeout.count() > 0) {
    return start + duration_cast<steady_clock::duration>(config.bootstrapTimeout);
  }
  return start + std::chrono::hours(24);
}

RunSummary runBootstrap(const config::Config& config) {
  const auto started = steady_clock::now();
  if (config.backendStore == config::BackendStore::kMemory) {
    return makeSummary("skipped", kExitOk,
                       "SPIKE_NEXUS_BACKEND_STORE is memory: Nexus keeps no root key to bootstrap");
  }
  Result<std::unique_ptr<RunJournal>> journal = makeRunJournal(config, runDeadline(config, started));
  if (!journal.ok()) {
    RunSummary failed = makeSummary("failed", kExitRetryable, journal.status().message());
    failed.keepersTotal = config.shamirShares;
    return failed;
  }

  auto ioOwner = std::make_unique<asio::io_context>();
  asio::io_context& io = *ioOwner;
  BootstrapRun run(config, std::move(*journal));
  std::optional<RunSummary> summary;
  asio::cancellation_signal cancelRun;

  asio::co_spawn(io, run.run(),
                 asio::bind_cancellation_slot(
                     cancelRun.slot(), [&](std::exception_ptr error, RunSummary result) {
                       if (error) {
                         result = makeSummary("failed", kExitRetryable, "internal error in the run");
                         try {
                           std::rethrow_exception(error);
                         } catch (const std::exception& exception) {
                           result.detail += std::string(": ") + exception.what();
                         }
                       }
                       summary = std::move(result);
                       io.stop();
                     }));

  asio::steady_timer grace(io);
  auto stopRun = [&](std::string reason) {
    run.cancel(std::move(reason));
    cancelRun.emit(asio::cancellation_type::terminal);
    grace.expires_after(kShutdownGrace);
    grace.async_wait([&](boost::system::error_code error) {
      if (!error) {
        io.stop();
      }
    });
  };

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code error, int signal) {
    if (!error) {
      stopRun(signal == SIGTERM ? "received SIGTERM" : "received SIGINT");
    }
  });
  if (int signal = earlySignal(); signal != 0) {
    asio::post(io, [&, signal] {
      stopRun(signal == SIGTERM ? "received SIGTERM" : "received SIGINT");
    });
  }

  asio::steady_timer deadline(io);
  if (config.bootstrapTimeout.count() > 0) {
    deadline.expires_after(config.bootstrapTimeout);
    deadline.async_wait([&](boost::system::error_code error) {
      if (!error) {
        stopRun("SPIKE_BOOTSTRAP_TIMEOUT of " + config::formatGoDuration(config.bootstrapTimeout) +
                " passed");
      }
    });
  }

  io.run();

  RunSummary result = summary.value_or(makeSummary(
      "failed", kExitRetryable,
      run.cancelled() ? "run stopped before it could wind down" : "the run ended early"));
  result.keepersTotal = result.keepersTotal == 0 ? config.shamirShares : result.keepersTotal;
  result.duration = duration_cast<milliseconds>(steady_clock::now() - started);

  // The outcome Event gets a short window of its own, shorter after a signal
  // so that the process still exits within 2 s of SIGTERM.
  io.restart();
  asio::co_spawn(io, run.reportOutcome(result), [&](std::exception_ptr) { io.stop(); });
  io.run_for(run.cancelled() ? kOutcomeReportWindowAfterStop : kOutcomeReportWindow);

  if (run.cancelled()) {
    // A name lookup may still block Asio's resolver thread, and destroying the
    // io_context would wait for it. The process exits right after a stopped
    // run, so the context is left to the operating system.
    abandonedContext = ioOwner.release();
  }
  return result;
}

}  // namespace spike_bootstrap::app
