// The state journal (claim, lease, write-ahead, completion) against the fake
// API server over real TLS.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/state_journal.h"
#include "support/kube/fake_kube_api.h"
#include "support/kube/run_awaitable.h"

namespace asio = boost::asio;
namespace kube = spike_bootstrap::kube;
namespace testing = spike_bootstrap::testing;
using kube::Action;
using spike_bootstrap::Status;
using spike_bootstrap::StatusCode;
using testing::KubeFault;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr const char* kName = "spike-bootstrap-state";

kube::ApiClientOptions fastRetries() {
  kube::ApiClientOptions options;
  options.attemptTimeout = 2s;
  options.retry.initialInterval = 5ms;
  options.retry.maxInterval = 20ms;
  options.retry.maxAttempts = 3;
  return options;
}

kube::StateJournalOptions journalOptions(std::string holder,
                                         std::chrono::milliseconds lease = 300ms,
                                         std::chrono::milliseconds timeLimit = 10s) {
  kube::StateJournalOptions options;
  options.inputs.inCluster = true;
  options.inputs.configMapName = kName;
  options.inputs.leaseDuration = lease;
  options.inputs.deployment.keeperPeers = {"https://k1", "https://k2", "https://k3"};
  options.inputs.deployment.shares = 3;
  options.inputs.deployment.threshold = 2;
  options.inputs.deployment.trustRoots = {{"spike.ist"}, {"spike.ist"}, {"spike.ist"}};
  options.holder = std::move(holder);
  options.attemptId = kube::newAttemptId();
  options.deadline = std::chrono::steady_clock::now() + timeLimit;
  return options;
}

// Sleeps, letting lease renewals run meanwhile; returns true.
asio::awaitable<bool> sleepFor(std::chrono::steady_clock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
  co_return true;
}

// A claim of another run, as that run would have written it.
kube::ConfigMapData otherClaim(kube::Phase phase, std::set<int> delivered,
                               std::string lease = "300ms") {
  return {{"phase", std::string(kube::phaseName(phase))},
          {"attempt-id", "other-attempt"},
          {"holder", "bootstrap-other"},
          {"lease-duration", std::move(lease)},
          {"shares-possibly-delivered", kube::formatKeeperIds(delivered)}};
}

struct Fixture {
  asio::io_context io;  // before the journals, so it outlives their coroutines
  testing::FakeKubeApi fake;

  kube::StateJournal journal(std::string holder, std::chrono::milliseconds lease = 300ms,
                             std::chrono::milliseconds timeLimit = 10s) {
    return kube::StateJournal(kube::ApiClient(fake.inClusterConfig(), fastRetries()),
                              journalOptions(std::move(holder), lease, timeLimit));
  }

  template <typename T>
  T run(asio::awaitable<T> coroutine) {
    return testing::runAwaitable(io, std::move(coroutine));
  }

  kube::StateRecord stored() {
    auto configMap = fake.configMap(kName);
    REQUIRE(configMap.has_value());
    auto record = kube::parseStateRecord(configMap->data);
    REQUIRE(record.ok());
    return *record;
  }
};

}  // namespace

TEST_CASE("journal claims a missing record", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a");

  auto decision = fixture.run(journal.decide());
  CHECK(decision.action == Action::kCreateClaim);
  auto claimed = fixture.run(journal.claim());
  REQUIRE(claimed.action == Action::kCreateClaim);

  kube::StateRecord record = fixture.stored();
  CHECK(record.phase == kube::Phase::kClaimed);
  CHECK(record.attemptId == journal.record().attemptId);
  CHECK(record.holder == "bootstrap-a");
  CHECK(record.leaseDuration == 300ms);
  CHECK(record.sharesPossiblyDelivered.empty());
  REQUIRE(record.deployment.has_value());
  CHECK(record.deployment->threshold == 2);
  CHECK_FALSE(record.completed);
  CHECK(fixture.fake.configMap(kName)->labels.at("app.kubernetes.io/managed-by") ==
        "spike-bootstrap");
}

TEST_CASE("journal records deliveries written ahead", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a");
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);

  // Two keepers start at once; their write-ahead records are serialized.
  auto [first, second] =
      fixture.run([](kube::StateJournal& journal) -> asio::awaitable<std::tuple<Status, Status>> {
        co_return co_await (journal.recordPossibleDelivery(1) && journal.recordPossibleDelivery(2));
      }(journal));
  CHECK(first.ok());
  CHECK(second.ok());

  kube::StateRecord record = fixture.stored();
  CHECK(record.phase == kube::Phase::kDelivering);
  CHECK(record.sharesPossiblyDelivered == std::set<int>{1, 2});

  REQUIRE(fixture.run(journal.recordAcknowledged(2)).ok());
  REQUIRE(fixture.run(journal.markVerifying()).ok());
  record = fixture.stored();
  CHECK(record.keepersAcknowledged == std::set<int>{2});
  CHECK(record.phase == kube::Phase::kVerifying);
}

TEST_CASE("journal completion makes later runs skip", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a");
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);
  REQUIRE(fixture.run(journal.recordPossibleDelivery(1)).ok());

  Status completed = fixture.run(journal.markCompleted());
  REQUIRE(completed.ok());
  auto data = fixture.fake.configMap(kName)->data;
  CHECK(data.at("bootstrap-completed") == "true");
  CHECK(data.at("completed-by-pod") == "bootstrap-a");
  CHECK(kube::parseRfc3339(data.at("completed-at")).ok());
  CHECK(data.at("phase") == "completed");

  kube::StateJournal later = fixture.journal("bootstrap-b");
  auto decision = fixture.run(later.decide());
  CHECK(decision.action == Action::kSkipCompleted);
  CHECK_THAT(decision.summary, Catch::Contains("bootstrap-a"));
}

TEST_CASE("journal failure records the honest count", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a");
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);
  REQUIRE(fixture.run(journal.recordPossibleDelivery(3)).ok());

  REQUIRE(fixture.run(journal.markFailed("keeper 3: connection reset")).ok());
  kube::StateRecord record = fixture.stored();
  CHECK(record.phase == kube::Phase::kFailed);
  CHECK(record.sharesPossiblyDelivered == std::set<int>{3});
  CHECK(record.lastError == "keeper 3: connection reset");

  // One possibly delivered share is below the threshold of 2: the next run
  // takes over at once.
  kube::StateJournal next = fixture.journal("bootstrap-b");
  auto decision = fixture.run(next.decide());
  CHECK(decision.action == Action::kTakeOver);
  REQUIRE(fixture.run(next.claim()).action == Action::kTakeOver);
  CHECK(fixture.stored().attemptId == next.record().attemptId);
  CHECK(fixture.stored().sharesPossiblyDelivered.empty());
}

TEST_CASE("journal renews its lease", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a", 300ms);
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);
  std::string claimedVersion = fixture.fake.configMap(kName)->resourceVersion;

  fixture.run(sleepFor(1000ms));
  CHECK(fixture.fake.callCount("update") >= 2);
  CHECK(fixture.fake.configMap(kName)->resourceVersion != claimedVersion);
  kube::StateRecord record = fixture.stored();
  REQUIRE(record.renewedAt.has_value());
  REQUIRE(record.claimedAt.has_value());
  CHECK(*record.renewedAt > *record.claimedAt);
}

TEST_CASE("journal waits for a live claim", "[kube][journal]") {
  Fixture fixture;
  // A lease of a second leaves room for slow renewals on a loaded machine.
  kube::StateJournal first = fixture.journal("bootstrap-a", 1000ms);
  kube::StateJournal second = fixture.journal("bootstrap-b", 1000ms, 2500ms);

  // Given both runs saw no record, the first claims it and renews it.
  CHECK(fixture.run(first.decide()).action == Action::kCreateClaim);
  CHECK(fixture.run(second.decide()).action == Action::kCreateClaim);
  REQUIRE(fixture.run(first.claim()).action == Action::kCreateClaim);

  // Then the second loses the create, waits, and gives up at its deadline.
  auto start = std::chrono::steady_clock::now();
  auto decision = fixture.run(second.claim());
  CHECK(std::chrono::steady_clock::now() - start >= 1500ms);
  CHECK(decision.action == Action::kFail);
  CHECK(decision.status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(decision.summary, Catch::Contains("bootstrap-a"));
  CHECK(fixture.stored().attemptId == first.record().attemptId);
}

TEST_CASE("journal waiter skips once the holder completes", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal holder = fixture.journal("bootstrap-a", 2000ms);
  kube::StateJournal waiter = fixture.journal("bootstrap-b", 2000ms);
  REQUIRE(fixture.run(holder.claim()).action == Action::kCreateClaim);

  auto [decision, completed] = fixture.run(
      [](kube::StateJournal& holder,
         kube::StateJournal& waiter) -> asio::awaitable<std::tuple<kube::Decision, Status>> {
        co_return co_await (waiter.decide() &&
                                [](kube::StateJournal& holder) -> asio::awaitable<Status> {
          co_await sleepFor(500ms);
          co_return co_await holder.markCompleted();
        }(holder));
      }(holder, waiter));
  REQUIRE(completed.ok());
  CHECK(decision.action == Action::kSkipCompleted);
}

TEST_CASE("journal takes over a stale claim", "[kube][journal]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, otherClaim(kube::Phase::kDelivering, {1}));
  kube::StateJournal journal = fixture.journal("bootstrap-b");

  auto start = std::chrono::steady_clock::now();
  auto decision = fixture.run(journal.decide());
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(decision.action == Action::kTakeOver);
  REQUIRE(fixture.run(journal.claim()).action == Action::kTakeOver);

  kube::StateRecord record = fixture.stored();
  CHECK(record.attemptId == journal.record().attemptId);
  CHECK(record.holder == "bootstrap-b");
  CHECK(record.sharesPossiblyDelivered.empty());
}

TEST_CASE("journal refuses a stale claim at threshold", "[kube][journal]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, otherClaim(kube::Phase::kVerifying, {1, 2}));
  kube::StateJournal journal = fixture.journal("bootstrap-b");

  auto decision = fixture.run(journal.claim());
  CHECK(decision.action == Action::kRefuse);
  CHECK(fixture.stored().attemptId == "other-attempt");
  CHECK(fixture.fake.callCount("update") == 0);
}

TEST_CASE("journal stops after losing its claim", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a", 5000ms);
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);

  // Another run takes over, as it would after our lease looked stale.
  fixture.fake.seedConfigMap(kName, otherClaim(kube::Phase::kClaimed, {}));
  Status delivery = fixture.run(journal.recordPossibleDelivery(1));
  CHECK(delivery.code() == StatusCode::kAborted);
  CHECK(journal.claimLost());
  CHECK(fixture.stored().attemptId == "other-attempt");
  CHECK(fixture.stored().sharesPossiblyDelivered.empty());

  CHECK(fixture.run(journal.markCompleted()).code() == StatusCode::kAborted);
  CHECK_FALSE(fixture.fake.configMap(kName)->data.count("bootstrap-completed"));
}

TEST_CASE("journal keeps its claim across foreign edits", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a", 5000ms);
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);

  kube::ConfigMapData edited = fixture.fake.configMap(kName)->data;
  edited["operator-note"] = "checked by ops";
  fixture.fake.seedConfigMap(kName, edited);

  REQUIRE(fixture.run(journal.recordPossibleDelivery(1)).ok());
  auto data = fixture.fake.configMap(kName)->data;
  CHECK(data.at("operator-note") == "checked by ops");
  CHECK(data.at("shares-possibly-delivered") == "1");
  CHECK_FALSE(journal.claimLost());
}

TEST_CASE("journal adopts its create after a lost response", "[kube][journal]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::act("create", KubeFault::Action::kApplyThenDrop, 1));
  kube::StateJournal journal = fixture.journal("bootstrap-a");

  auto claimed = fixture.run(journal.claim());
  CHECK(claimed.action == Action::kCreateClaim);
  CHECK(fixture.stored().attemptId == journal.record().attemptId);
  REQUIRE(fixture.run(journal.recordPossibleDelivery(2)).ok());
}

TEST_CASE("journal fails when the record cannot be read", "[kube][journal]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::respond("get", 403));
  kube::StateJournal journal = fixture.journal("bootstrap-a");

  auto decision = fixture.run(journal.claim());
  CHECK(decision.action == Action::kFail);
  CHECK_THAT(decision.summary, Catch::Contains("add verb \"get\""));
  CHECK(fixture.fake.callCount("create") == 0);
}

TEST_CASE("journal fails when the claim is forbidden", "[kube][journal]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::respond("create", 403));
  kube::StateJournal journal = fixture.journal("bootstrap-a");

  auto decision = fixture.run(journal.claim());
  CHECK(decision.action == Action::kFail);
  CHECK(decision.status.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(decision.summary, Catch::Contains("add verb \"create\""));
}

TEST_CASE("journal retries the completion write", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a", 60000ms);
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);
  fixture.fake.addFault(KubeFault::respond("update", 403, 1));

  REQUIRE(fixture.run(journal.markCompleted()).ok());
  CHECK(fixture.fake.configMap(kName)->data.at("bootstrap-completed") == "true");
  CHECK(fixture.fake.callCount("update") == 2);
}

TEST_CASE("journal completion gives up at the deadline", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a", 60000ms, 1500ms);
  REQUIRE(fixture.run(journal.claim()).action == Action::kCreateClaim);
  fixture.fake.addFault(KubeFault::respond("update", 403));

  Status completed = fixture.run(journal.markCompleted());
  CHECK(completed.code() == StatusCode::kDeadlineExceeded);
  CHECK_FALSE(fixture.fake.configMap(kName)->data.count("bootstrap-completed"));
}

TEST_CASE("journal completion hint is a kubectl patch", "[kube][journal]") {
  Fixture fixture;
  kube::StateJournal journal = fixture.journal("bootstrap-a");
  std::string hint = journal.markCompletedHint();
  CHECK_THAT(hint, Catch::StartsWith("kubectl -n spike patch configmap spike-bootstrap-state"));
  CHECK_THAT(hint, Catch::Contains(R"("bootstrap-completed":"true")"));
  CHECK_THAT(hint, Catch::Contains(R"("completed-by-pod":"bootstrap-a")"));
}
