// StateJournal: the one writer of the state ConfigMap during a run. It reads
// the record and decides (waiting while another run has a live claim), takes
// the claim with an atomic create or a guarded update, renews it as a lease,
// and records write-ahead deliveries, acknowledgements, failure and
// completion.
//
// Every write is an update guarded by the resourceVersion of our last write.
// On a Conflict the journal reads the object again. If the attempt ID is
// still ours (an unrelated edit, or our own write whose response was lost) it
// writes again on top of the new version. Otherwise another run took the
// claim over, the claim is lost, and every later write fails, so the run
// stops before sending another share.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/decision.h"
#include "spike_bootstrap/kube/state_record.h"

namespace spike_bootstrap::kube {

struct StateJournalOptions {
  DecisionInputs inputs;
  // Our pod name (POD_NAME, else the host name), written as holder and
  // completed-by-pod.
  std::string holder;
  // Unique per run; see newAttemptId().
  std::string attemptId;
  // Waiting for another run's live claim and retrying the completion write
  // stop here.
  std::chrono::steady_clock::time_point deadline;
  // Source of the times written to the record (claimed-at, renewed-at,
  // completed-at).
  std::function<TimePoint()> wallClock = [] { return std::chrono::system_clock::now(); };
};

// Returns 32 lower-case hex digits from the OS random generator.
std::string newAttemptId();

// The journal's state, shared with its lease renewal coroutine so that
// coroutine never outlives what it reads (defined in state_journal.cpp).
struct JournalState;

// Use from one io_context thread. Methods may run concurrently as coroutines
// (for example write-ahead records of several keepers): writes are serialized
// internally. The io_context must outlive the journal's last coroutine.
class StateJournal {
 public:
  StateJournal(ApiClient api, StateJournalOptions options);
  // Stops the lease renewal.
  ~StateJournal();
  StateJournal(const StateJournal&) = delete;
  StateJournal& operator=(const StateJournal&) = delete;

  // Reads the record and decides, re-reading while another run has a live
  // claim. A claim still live at the deadline gives kFail with
  // DeadlineExceeded.
  boost::asio::awaitable<Decision> decide();

  // Takes the claim that the last decide() allowed (it calls decide() first
  // when there was none). When another run changed the record in between, it
  // decides again and may then wait, skip, refuse or fail. On success it
  // starts renewing the lease every third of the lease duration and returns
  // the decision it acted on (kCreateClaim or kTakeOver). A kRunWithoutState
  // or final decision is returned unchanged, without a claim.
  boost::asio::awaitable<Decision> claim();

  // Write-ahead: records keeperId as possibly holding a share and phase
  // delivering. Send nothing to that keeper unless this returns OK.
  // Aborted when the claim was lost.
  boost::asio::awaitable<Status> recordPossibleDelivery(int keeperId);

  // Records that keeperId stored its share.
  boost::asio::awaitable<Status> recordAcknowledged(int keeperId);

  // Records phase verifying (enough keepers acknowledged; Nexus is checked).
  boost::asio::awaitable<Status> markVerifying();

  // Records bootstrap-completed: "true", completed-at and completed-by-pod,
  // retrying until the write succeeds, the claim is lost (Aborted) or the
  // deadline passes (DeadlineExceeded). Stops the lease renewal on success.
  boost::asio::awaitable<Status> markCompleted();

  // Records phase failed with reason and the honest possibly-delivered set,
  // then stops the lease renewal. One write with the client's own retries.
  boost::asio::awaitable<Status> markFailed(std::string reason);

  // Returns a kubectl command that marks the bootstrap completed by hand.
  std::string markCompletedHint() const;

  // Returns our record as last written.
  StateRecord record() const;
  // True once another run took the claim over or the ConfigMap disappeared.
  bool claimLost() const;

 private:
  std::shared_ptr<JournalState> shared_;
};

}  // namespace spike_bootstrap::kube
