// RunJournal: where a run records its progress so that no sequence of runs
// (concurrent, crashed, retried) leaves the keepers with shares of two keys.
//
// In a cluster the journal is the state ConfigMap (kube module). Elsewhere it
// is NoStateJournal, which records nothing and lets every run proceed, as
// SPIKE does on bare metal. The run calls the methods in this order:
//   decide -> claim -> recordPossibleDelivery/recordAcknowledged per keeper
//   -> markCompleted, or markFailed on any failure after claim.
// Thread rule: only on the run's io_context thread.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::app {

enum class Verdict {
  kProceed,  // go on with the run
  kSkip,     // nothing to do (already completed): exit 0
  kRefuse,   // an operator must look (corrupt record, shares may be out): exit 3
  kFail,     // could not decide or claim; safe to retry: exit 1
};

struct JournalDecision {
  Verdict verdict = Verdict::kProceed;
  std::string detail;  // one sentence for the summary; empty for kProceed
};

class RunJournal {
 public:
  virtual ~RunJournal() = default;

  // Reads the recorded state and decides whether this run may go on. May wait
  // while another run holds a live claim.
  virtual boost::asio::awaitable<JournalDecision> decide() = 0;

  // Takes the exclusive claim before any share leaves the process and keeps
  // it alive until markCompleted or markFailed.
  virtual boost::asio::awaitable<JournalDecision> claim() = 0;

  // Write-ahead: records that keeperId may receive its share, before the
  // first byte of it is written. A failure stops that delivery unsent.
  virtual boost::asio::awaitable<Status> recordPossibleDelivery(int keeperId) = 0;

  // Records that keeperId acknowledged its share. Best effort.
  virtual boost::asio::awaitable<void> recordAcknowledged(int keeperId) = 0;

  // Records that a threshold of keepers acknowledged and Nexus is being
  // asked to verify. Best effort.
  virtual boost::asio::awaitable<void> markVerifying() = 0;

  // Records completion after Nexus verified the key; retried until it
  // succeeds or the run's deadline passes. A failure must end the run with
  // exit 3, because a retry would re-key a verified deployment.
  virtual boost::asio::awaitable<Status> markCompleted() = 0;

  // Records a failed run with its honest possibly-delivered count. Best
  // effort and quick: it also runs after SIGTERM.
  virtual boost::asio::awaitable<void> markFailed(std::string reason) = 0;

  // Tells an operator how to record completion by hand (a kubectl command),
  // or "" when there is no record.
  virtual std::string markCompletedHint() const = 0;

  // Reports the run's outcome where operators look (a Kubernetes Event on the
  // pod). Best effort.
  virtual boost::asio::awaitable<void> reportOutcome(const std::string& outcome,
                                                     const std::string& summaryLine) = 0;
};

// The journal outside Kubernetes: nothing is recorded, every run proceeds.
class NoStateJournal final : public RunJournal {
 public:
  boost::asio::awaitable<JournalDecision> decide() override { co_return JournalDecision{}; }
  boost::asio::awaitable<JournalDecision> claim() override { co_return JournalDecision{}; }
  boost::asio::awaitable<Status> recordPossibleDelivery(int) override { co_return Status(); }
  boost::asio::awaitable<void> recordAcknowledged(int) override { co_return; }
  boost::asio::awaitable<void> markVerifying() override { co_return; }
  boost::asio::awaitable<Status> markCompleted() override { co_return Status(); }
  boost::asio::awaitable<void> markFailed(std::string) override { co_return; }
  std::string markCompletedHint() const override { return ""; }
  boost::asio::awaitable<void> reportOutcome(const std::string&, const std::string&) override {
    co_return;
  }
};

}  // namespace spike_bootstrap::app
