// StateJournal: claim, lease renewal and guarded record writes on the state
// ConfigMap, serialized through one write lock.
#include "spike_bootstrap/kube/state_journal.h"

#include <openssl/rand.h>
#include <algorithm>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/kube/configmap_client.h"
#include "spike_bootstrap/net/backoff.h"

// See api_client.cpp: a false positive of GCC 12 on Asio's coroutine frames.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace spike_bootstrap::kube {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;
using WriteLock = asio::experimental::channel<void(boost::system::error_code)>;

// Conflicts in a row, with our own attempt still in the record, before a
// write gives up. Each one means someone else edited the object in between.
constexpr int kMaxRebases = 5;

// A wait for another run's claim is logged again after this many polls
// without a change.
constexpr int kPollsPerWaitLog = 15;

const logging::Logger& logger() {
  static const logging::Logger instance("kube");
  return instance;
}

// Waits for delay; false when the wait was cancelled.
asio::awaitable<bool> sleepFor(SteadyClock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !error;
}

}  // namespace

std::string newAttemptId() {
  unsigned char bytes[16] = {};
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // The ID only has to be unique, not secret, so the clock can stand in.
    auto now = SteadyClock::now().time_since_epoch().count();
    std::memcpy(bytes, &now, sizeof(now));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char byte : bytes) {
    id += kHex[byte >> 4];
    id += kHex[byte & 0x0f];
  }
  return id;
}

struct JournalState {
  JournalState(ApiClient apiClient, StateJournalOptions journalOptions)
      : api(std::move(apiClient)), client(api), options(std::move(journalOptions)) {}

  ApiClient api;
  ConfigMapClient client;
  StateJournalOptions options;

  ClaimWatch watch;
  std::optional<Decision> lastDecision;
  std::optional<ConfigMap> lastRead;  // the object behind lastDecision
  std::optional<ConfigMap> current;   // the object after our last write
  StateRecord record;
  bool claimed = false;
  bool lost = false;
  bool renewing = false;  // the renewal coroutine has started and not ended
  std::unique_ptr<WriteLock> writeLock;
  asio::cancellation_signal stopRenewal;

  const std::string& name() const { return options.inputs.configMapName; }
  std::string now() const { return formatRfc3339(options.wallClock()); }
};

namespace {

using StatePtr = std::shared_ptr<JournalState>;

Status lostStatus(const JournalState& shared, std::string_view detail) {
  return Status(StatusCode::kAborted, "the bootstrap claim of attempt " + shared.options.attemptId +
                                          " on ConfigMap " + shared.name() +
                                          " was lost: " + std::string(detail));
}

// Releases the write lock when the write ends, however it ends.
class LockRelease {
 public:
  explicit LockRelease(WriteLock& lock) : lock_(lock) {}
  ~LockRelease() {
    lock_.try_receive([](boost::system::error_code) {});
  }
  LockRelease(const LockRelease&) = delete;
  LockRelease& operator=(const LockRelease&) = delete;

 private:
  WriteLock& lock_;
};

// A change to our record. Callers pass a named variable, never a lambda
// temporary in the co_await expression: GCC 12 destroys such a temporary
// twice, which frees captured strings twice.
using RecordChange = std::function<void(StateRecord&)>;

// Applies change to our record and writes it, guarded by the version of our
// last write. See the file comment of state_journal.h for Conflicts.
asio::awaitable<Status> writeRecord(StatePtr shared, RecordChange change) {
  if (!shared->writeLock) {
    shared->writeLock = std::make_unique<WriteLock>(co_await asio::this_coro::executor, 1);
  }
  auto [lockError] = co_await shared->writeLock->async_send(boost::system::error_code(),
                                                            asio::as_tuple(asio::use_awaitable));
  if (lockError) {
    co_return Status(StatusCode::kCancelled, "cancelled while waiting to write the state record");
  }
  LockRelease release(*shared->writeLock);

  if (shared->lost) {
    co_return lostStatus(*shared, "another run took it over earlier");
  }
  if (!shared->claimed || !shared->current) {
    co_return Status(StatusCode::kFailedPrecondition,
                     "the state record is written only after the claim was taken");
  }

  for (int round = 0; round <= kMaxRebases; ++round) {
    StateRecord next = shared->record;
    change(next);
    next.renewedAt = shared->options.wallClock();
    ConfigMap desired = *shared->current;
    desired.data = applyStateRecord(next, std::move(desired.data));

    ApiResult<ConfigMap> written = co_await shared->client.update(desired);
    if (written.ok()) {
      shared->current = std::move(*written);
      shared->record = std::move(next);
      co_return okStatus();
    }
    if (written.error().notFound()) {
      shared->lost = true;
      co_return lostStatus(*shared, "the ConfigMap was deleted");
    }
    if (!written.error().conflict()) {
      co_return written.status();
    }

    // Someone wrote in between. Only a new attempt ID means a takeover.
    ApiResult<ConfigMap> fresh = co_await shared->client.get(shared->name());
    if (!fresh.ok()) {
      co_return fresh.error().notFound() ? lostStatus(*shared, "the ConfigMap was deleted")
                                         : fresh.status();
    }
    Result<StateRecord> parsed = parseStateRecord(fresh->data);
    if (!parsed.ok() || parsed->attemptId != shared->options.attemptId) {
      shared->lost = true;
      std::string by = parsed.ok() ? "attempt " + parsed->attemptId + " of pod " + parsed->holder
                                   : "a corrupt record (" + parsed.status().message() + ")";
      logger().error("state record claim lost; stopping",
                     {{"attempt_id", shared->options.attemptId}, {"replaced_by", by}});
      co_return lostStatus(*shared, "the record now names " + by);
    }
    shared->current = std::move(*fresh);
  }
  co_return Status(StatusCode::kAborted, "the state ConfigMap " + shared->name() + " changed " +
                                             std::to_string(kMaxRebases + 1) +
                                             " times in a row while writing it; check what else "
                                             "edits it");
}

// Renews the claim every third of the lease until cancelled or lost.
asio::awaitable<void> renewLease(StatePtr shared) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto lease =
      std::chrono::duration_cast<SteadyClock::duration>(shared->options.inputs.leaseDuration);
  SteadyClock::duration interval =
      std::max<SteadyClock::duration>(lease / 3, std::chrono::milliseconds(10));

  while (!shared->lost) {
    if (!co_await sleepFor(interval)) {
      co_return;
    }
    RecordChange renew = [](StateRecord&) {};
    Status renewed = co_await writeRecord(shared, std::move(renew));
    if ((co_await asio::this_coro::cancellation_state).cancelled() !=
        asio::cancellation_type::none) {
      co_return;
    }
    if (!renewed.ok() && !shared->lost) {
      logger().warn("could not renew the bootstrap claim; retrying",
                    {{"attempt_id", shared->options.attemptId}, {"error", renewed.toString()}});
    }
  }
}

void startRenewal(const StatePtr& shared, const asio::any_io_executor& executor) {
  shared->renewing = true;
  asio::co_spawn(
      executor, renewLease(shared),
      asio::bind_cancellation_slot(shared->stopRenewal.slot(), [shared](std::exception_ptr error) {
        // Asio 1.81 never removes co_spawn's cancellation handler from
        // the slot (impl/co_spawn.hpp). Clear it, so a later emit cannot
        // reach the ended coroutine.
        shared->renewing = false;
        shared->stopRenewal.slot().clear();
        if (error) {
          logger().error("lease renewal stopped by an exception",
                         {{"attempt_id", shared->options.attemptId}});
        }
      }));
}

void stopRenewal(JournalState& shared) {
  if (shared.renewing) {
    shared.stopRenewal.emit(asio::cancellation_type::all);
  }
}

// The record of a new claim: our attempt, nothing delivered yet, the current
// deployment, and no completion (a forced run clears the old one).
StateRecord claimRecord(const JournalState& shared) {
  StateRecord record;
  record.phase = Phase::kClaimed;
  record.attemptId = shared.options.attemptId;
  record.holder = shared.options.holder;
  record.claimedAt = shared.options.wallClock();
  record.renewedAt = record.claimedAt;
  record.leaseDuration = shared.options.inputs.leaseDuration;
  record.deployment = shared.options.inputs.deployment;
  return record;
}

// Returns true when object carries our attempt: a write of ours whose
// response was lost did reach the API server.
bool carriesOurAttempt(const JournalState& shared, const ConfigMap& object) {
  Result<StateRecord> parsed = parseStateRecord(object.data);
  return parsed.ok() && parsed->attemptId == shared.options.attemptId;
}

// Sends the create or guarded update for decision. Returns the stored object,
// nullopt when another run got there first (decide again), or the failure.
asio::awaitable<Result<std::optional<ConfigMap>>> sendClaim(StatePtr shared,
                                                            const Decision& decision,
                                                            const StateRecord& record) {
  ApiResult<ConfigMap> written = ApiError{};
  if (decision.action == Action::kCreateClaim) {
    ConfigMap object;
    object.name = shared->name();
    object.labels = {{"app.kubernetes.io/managed-by", "spike-bootstrap"}};
    object.data = applyStateRecord(record, {});
    written = co_await shared->client.create(std::move(object));
  } else {
    ConfigMap object = *shared->lastRead;
    object.resourceVersion = decision.resourceVersion;
    object.data = applyStateRecord(record, std::move(object.data));
    written = co_await shared->client.update(std::move(object));
  }
  if (written.ok()) {
    co_return std::optional<ConfigMap>(std::move(*written));
  }

  const ApiError& error = written.error();
  if (!error.alreadyExists() && !error.conflict() && !error.notFound()) {
    co_return error.status;
  }
  if (error.mayHaveApplied) {
    ApiResult<ConfigMap> fresh = co_await shared->client.get(shared->name());
    if (fresh.ok() && carriesOurAttempt(*shared, *fresh)) {
      co_return std::optional<ConfigMap>(std::move(*fresh));
    }
  }
  co_return std::optional<ConfigMap>();
}

}  // namespace

StateJournal::StateJournal(ApiClient api, StateJournalOptions options)
    : shared_(std::make_shared<JournalState>(std::move(api), std::move(options))) {}

StateJournal::~StateJournal() { stopRenewal(*shared_); }

asio::awaitable<Decision> StateJournal::decide() {
  StatePtr shared = shared_;
  const DecisionInputs& inputs = shared->options.inputs;
  if (inputs.backendStore == config::BackendStore::kMemory || !inputs.inCluster) {
    shared->lastDecision = decideBootstrap(inputs, nullptr, shared->watch, SteadyClock::now());
    co_return *shared->lastDecision;
  }

  int pollsSinceLog = 0;
  std::string lastSummary;
  while (true) {
    ApiResult<ConfigMap> read = co_await shared->client.get(shared->name());
    Decision decision = decideBootstrap(inputs, &read, shared->watch, SteadyClock::now());
    shared->lastRead = read.ok() ? std::optional<ConfigMap>(*read) : std::nullopt;
    if (decision.action != Action::kWait) {
      shared->lastDecision = decision;
      co_return decision;
    }

    if (SteadyClock::now() + decision.waitFor >= shared->options.deadline) {
      decision.action = Action::kFail;
      decision.status = Status(StatusCode::kDeadlineExceeded,
                               "the run's deadline passed while waiting: " + decision.summary);
      decision.summary = decision.status.message();
      shared->lastDecision = decision;
      co_return decision;
    }
    if (decision.summary != lastSummary || ++pollsSinceLog >= kPollsPerWaitLog) {
      logger().info("waiting for another bootstrap run",
                    {{"configmap", shared->name()}, {"reason", decision.summary}});
      lastSummary = decision.summary;
      pollsSinceLog = 0;
    }
    if (!co_await sleepFor(decision.waitFor)) {
      decision.action = Action::kFail;
      decision.status = Status(StatusCode::kCancelled, "cancelled while waiting for another run");
      decision.summary = decision.status.message();
      co_return decision;
    }
  }
}

asio::awaitable<Decision> StateJournal::claim() {
  StatePtr shared = shared_;
  if (!shared->lastDecision) {
    co_await decide();
  }

  while (true) {
    Decision decision = *shared->lastDecision;
    if (decision.action != Action::kCreateClaim && decision.action != Action::kTakeOver) {
      co_return decision;
    }

    StateRecord record = claimRecord(*shared);
    Result<std::optional<ConfigMap>> stored = co_await sendClaim(shared, decision, record);
    if (!stored.ok()) {
      Decision failed;
      failed.action = Action::kFail;
      failed.status = stored.status();
      failed.summary = "could not claim the state ConfigMap " + shared->name() +
                       ", so no keeper is contacted: " + stored.status().message();
      co_return failed;
    }
    if (stored->has_value()) {
      shared->current = std::move(**stored);
      shared->record = std::move(record);
      shared->claimed = true;
      if (decision.forced) {
        logger().warn("claimed the state record by force", {{"reason", decision.summary}});
      } else {
        logger().info("claimed the state record", {{"configmap", shared->name()},
                                                   {"attempt_id", shared->options.attemptId},
                                                   {"reason", decision.summary}});
      }
      startRenewal(shared, co_await asio::this_coro::executor);
      co_return decision;
    }

    logger().info("another run changed the state record first; deciding again",
                  {{"configmap", shared->name()}});
    co_await decide();
  }
}

asio::awaitable<Status> StateJournal::recordPossibleDelivery(int keeperId) {
  RecordChange change = [keeperId](StateRecord& record) {
    record.phase = Phase::kDelivering;
    record.sharesPossiblyDelivered.insert(keeperId);
  };
  co_return co_await writeRecord(shared_, std::move(change));
}

asio::awaitable<Status> StateJournal::recordAcknowledged(int keeperId) {
  RecordChange change = [keeperId](StateRecord& record) {
    record.keepersAcknowledged.insert(keeperId);
    record.sharesPossiblyDelivered.insert(keeperId);
  };
  co_return co_await writeRecord(shared_, std::move(change));
}

asio::awaitable<Status> StateJournal::markVerifying() {
  RecordChange change = [](StateRecord& record) { record.phase = Phase::kVerifying; };
  co_return co_await writeRecord(shared_, std::move(change));
}

asio::awaitable<Status> StateJournal::markCompleted() {
  StatePtr shared = shared_;
  RecordChange complete = [shared](StateRecord& record) {
    record.phase = Phase::kCompleted;
    record.completed = true;
    record.completedAt = shared->now();
    record.completedByPod = shared->options.holder;
    record.lastError.clear();
  };

  net::BackoffPolicy policy;
  policy.initialInterval = std::chrono::seconds(1);
  policy.maxInterval = std::chrono::seconds(10);
  net::Backoff backoff(policy);
  while (true) {
    RecordChange attempt = complete;
    Status written = co_await writeRecord(shared, std::move(attempt));
    if (written.ok()) {
      stopRenewal(*shared);
      logger().info("recorded the bootstrap as completed",
                    {{"configmap", shared->name()}, {"attempt_id", shared->options.attemptId}});
      co_return written;
    }
    if (shared->lost || written.code() == StatusCode::kCancelled) {
      co_return written;
    }

    std::optional<net::Backoff::Duration> delay = backoff.nextDelay();
    if (!delay || SteadyClock::now() + *delay >= shared->options.deadline) {
      co_return Status(
          StatusCode::kDeadlineExceeded,
          "the run's deadline passed before completion was recorded: " + written.message());
    }
    logger().warn("could not record completion; retrying",
                  {{"attempt", backoff.attempt() - 1}, {"error", written.toString()}});
    if (!co_await sleepFor(*delay)) {
      co_return Status(StatusCode::kCancelled, "cancelled while recording completion");
    }
  }
}

asio::awaitable<Status> StateJournal::markFailed(std::string reason) {
  StatePtr shared = shared_;
  if (!shared->claimed) {
    co_return okStatus();
  }
  RecordChange fail = [reason = std::move(reason)](StateRecord& record) {
    record.phase = Phase::kFailed;
    record.lastError = reason;
  };
  Status written = co_await writeRecord(shared, std::move(fail));
  stopRenewal(*shared);
  if (!written.ok()) {
    logger().warn("could not record the failed attempt",
                  {{"attempt_id", shared->options.attemptId}, {"error", written.toString()}});
  }
  co_return written;
}

std::string StateJournal::markCompletedHint() const {
  const StatePtr& shared = shared_;
  return "kubectl -n " + shared->api.config().namespaceName() + " patch configmap " +
         shared->name() + " --type merge -p '{\"data\":{\"bootstrap-completed\":\"true\"," +
         "\"completed-at\":\"" + shared->now() + "\",\"completed-by-pod\":\"" +
         shared->options.holder + "\"}}'";
}

StateRecord StateJournal::record() const { return shared_->record; }

bool StateJournal::claimLost() const { return shared_->lost; }

}  // namespace spike_bootstrap::kube
