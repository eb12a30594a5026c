// RunJournal over the state ConfigMap, and the pod Event of the outcome.
#include "spike_bootstrap/app/kube_journal.h"

#include <unistd.h>

#include <optional>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/decision.h"
#include "spike_bootstrap/kube/event_recorder.h"
#include "spike_bootstrap/kube/in_cluster.h"
#include "spike_bootstrap/kube/state_journal.h"

namespace spike_bootstrap::app {
namespace {

namespace asio = boost::asio;

const logging::Logger& stateLog() {
  static const logging::Logger logger("state");
  return logger;
}

JournalDecision toJournalDecision(const kube::Decision& decision) {
  switch (decision.action) {
    case kube::Action::kCreateClaim:
    case kube::Action::kTakeOver:
    case kube::Action::kRunWithoutState:
      if (decision.forced) {
        stateLog().warn(decision.summary);
      } else if (!decision.summary.empty()) {
        stateLog().info(decision.summary);
      }
      return JournalDecision{Verdict::kProceed, ""};
    case kube::Action::kSkipMemoryBackend:
    case kube::Action::kSkipCompleted:
      for (const kube::DeploymentChange& change : decision.drift) {
        stateLog().warn("deployment changed since the bootstrap completed; not re-keying",
                        {{"setting", change.setting},
                         {"recorded", change.recorded},
                         {"current", change.current}});
      }
      return JournalDecision{Verdict::kSkip, decision.summary};
    case kube::Action::kRefuse:
      return JournalDecision{Verdict::kRefuse, decision.summary};
    case kube::Action::kWait:
    case kube::Action::kFail:
      break;
  }
  std::string detail = decision.summary;
  if (!decision.status.ok() && detail.find(decision.status.message()) == std::string::npos) {
    detail += ": " + decision.status.toString();
  }
  return JournalDecision{Verdict::kFail, detail};
}

std::string eventReason(const std::string& outcome) {
  if (outcome == "completed") {
    return "BootstrapCompleted";
  }
  if (outcome == "skipped") {
    return "BootstrapSkipped";
  }
  if (outcome == "refused") {
    return "BootstrapRefused";
  }
  return "BootstrapFailed";
}

// Our pod's name: POD_NAME from the downward API, else HOSTNAME, else the
// kernel's host name (which Kubernetes sets to the pod name).
std::string podName(const config::Config& config) {
  if (config.podName && !config.podName->empty()) {
    return *config.podName;
  }
  if (!config.hostname.empty()) {
    return config.hostname;
  }
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : "unknown";
}

class KubeRunJournal final : public RunJournal {
 public:
  KubeRunJournal(kube::ApiClient api, kube::StateJournalOptions options,
                 std::optional<kube::PodReference> pod)
      : eventsApi_(api), journal_(std::move(api), std::move(options)) {
    if (pod) {
      events_.emplace(eventsApi_, std::move(*pod));
    }
  }

  asio::awaitable<JournalDecision> decide() override {
    co_return withRecoveryHint(toJournalDecision(co_await journal_.decide()));
  }
  asio::awaitable<JournalDecision> claim() override {
    co_return withRecoveryHint(toJournalDecision(co_await journal_.claim()));
  }
  asio::awaitable<Status> recordPossibleDelivery(int keeperId) override {
    co_return co_await journal_.recordPossibleDelivery(keeperId);
  }
  asio::awaitable<void> recordAcknowledged(int keeperId) override {
    Status recorded = co_await journal_.recordAcknowledged(keeperId);
    if (!recorded.ok()) {
      stateLog().warn("could not record an acknowledged keeper",
                      {{"keeper_id", keeperId}, {"error", recorded.toString()}});
    }
  }
  asio::awaitable<void> markVerifying() override {
    Status recorded = co_await journal_.markVerifying();
    if (!recorded.ok()) {
      stateLog().warn("could not record phase verifying", {{"error", recorded.toString()}});
    }
  }
  asio::awaitable<Status> markCompleted() override { co_return co_await journal_.markCompleted(); }
  asio::awaitable<void> markFailed(std::string reason) override {
    Status recorded = co_await journal_.markFailed(std::move(reason));
    if (!recorded.ok()) {
      stateLog().warn("could not record the failed attempt", {{"error", recorded.toString()}});
    }
  }
  std::string markCompletedHint() const override { return journal_.markCompletedHint(); }

  asio::awaitable<void> reportOutcome(const std::string& outcome,
                                      const std::string& summaryLine) override {
    if (!events_) {
      co_return;
    }
    kube::EventType type = outcome == "completed" || outcome == "skipped"
                               ? kube::EventType::kNormal
                               : kube::EventType::kWarning;
    co_await events_->record(type, eventReason(outcome), summaryLine);
  }

 private:
  // A refusal leaves the operator to decide; give them the command that
  // records completion by hand, as the README's recovery steps do.
  JournalDecision withRecoveryHint(JournalDecision decision) const {
    if (decision.verdict == Verdict::kRefuse && decision.detail.find("kubectl") == std::string::npos) {
      decision.detail += ". If SPIKE Nexus runs with a root key, record completion: " +
                         journal_.markCompletedHint() +
                         "; to re-key instead, set SPIKE_BOOTSTRAP_FORCE=true";
    }
    return decision;
  }

  // Events use their own copy of the client; the journal owns the other.
  kube::ApiClient eventsApi_;
  kube::StateJournal journal_;
  std::optional<kube::EventRecorder> events_;
};

}  // namespace

Result<std::unique_ptr<RunJournal>> makeRunJournal(
    const config::Config& config, std::chrono::steady_clock::time_point deadline) {
  if (!config.inCluster()) {
    return std::unique_ptr<RunJournal>(std::make_unique<NoStateJournal>());
  }
  Result<kube::InClusterConfig> cluster = kube::InClusterConfig::load(config);
  if (!cluster.ok()) {
    return cluster.status();
  }
  kube::ApiClientOptions apiOptions;
  apiOptions.deadline = deadline;
  kube::ApiClient api(std::move(*cluster), apiOptions);

  kube::StateJournalOptions options;
  options.inputs = kube::DecisionInputs::fromConfig(config);
  options.holder = podName(config);
  options.attemptId = kube::newAttemptId();
  options.deadline = deadline;

  std::optional<kube::PodReference> pod;
  if (config.podName && config.podNamespace) {
    pod = kube::PodReference{*config.podName, *config.podNamespace, ""};
  }
  return std::unique_ptr<RunJournal>(
      std::make_unique<KubeRunJournal>(std::move(api), std::move(options), std::move(pod)));
}

}  // namespace spike_bootstrap::app
