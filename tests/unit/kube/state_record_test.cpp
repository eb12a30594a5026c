#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/state_record.h"

namespace kube = spike_bootstrap::kube;
namespace config = spike_bootstrap::config;
using spike_bootstrap::StatusCode;
using namespace std::chrono_literals;

namespace {

kube::Deployment sampleDeployment() {
  kube::Deployment deployment;
  deployment.keeperPeers = {"https://k1:8443", "https://k2:8443", "https://k3:8443"};
  deployment.shares = 3;
  deployment.threshold = 2;
  deployment.trustRoots = {{"spike.ist"}, {"spike.ist"}, {"spike.ist"}};
  return deployment;
}

kube::StateRecord delivering() {
  kube::StateRecord record;
  record.phase = kube::Phase::kDelivering;
  record.attemptId = "a1b2c3";
  record.holder = "bootstrap-xyz";
  record.claimedAt = kube::TimePoint(1714566896000ms);
  record.renewedAt = kube::TimePoint(1714566901250ms);
  record.leaseDuration = 15s;
  record.sharesPossiblyDelivered = {1, 3};
  record.keepersAcknowledged = {1};
  record.deployment = sampleDeployment();
  return record;
}

void requireCorrupt(const kube::ConfigMapData& data, std::string_view key) {
  auto parsed = kube::parseStateRecord(data);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == StatusCode::kDataLoss);
  CHECK_THAT(parsed.status().message(), Catch::Contains("corrupt state record"));
  CHECK_THAT(parsed.status().message(), Catch::Contains(std::string(key)));
}

}  // namespace

TEST_CASE("state record from empty data", "[kube][state]") {
  auto parsed = kube::parseStateRecord({});
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->completed);
  CHECK_FALSE(parsed->hasAttempt());
  CHECK_FALSE(parsed->deployment.has_value());
}

TEST_CASE("state record written by spike", "[kube][state]") {
  kube::ConfigMapData data = {{"bootstrap-completed", "true"},
                              {"completed-at", "2024-05-01T12:34:56Z"},
                              {"completed-by-pod", "spike-bootstrap-abc"}};
  auto parsed = kube::parseStateRecord(data);
  REQUIRE(parsed.ok());
  CHECK(parsed->completed);
  CHECK(parsed->completedAt == "2024-05-01T12:34:56Z");
  CHECK(parsed->completedByPod == "spike-bootstrap-abc");
  CHECK_FALSE(parsed->hasAttempt());
}

TEST_CASE("state record keeps odd completed-at text", "[kube][state]") {
  auto parsed = kube::parseStateRecord({{"bootstrap-completed", "true"}, {"completed-at", "soon"}});
  REQUIRE(parsed.ok());
  CHECK(parsed->completed);
  CHECK(parsed->completedAt == "soon");
}

TEST_CASE("state record rejects completed other than true", "[kube][state]") {
  for (const char* value : {"True", "TRUE", "false", "", "1", "yes", " true", "true\n"}) {
    INFO(value);
    requireCorrupt({{"bootstrap-completed", value}}, "bootstrap-completed");
  }
}

TEST_CASE("state record rejects unknown phase", "[kube][state]") {
  requireCorrupt({{"phase", "running"}, {"attempt-id", "a"}, {"holder", "p"}}, "phase");
}

TEST_CASE("state record rejects completed phase without flag", "[kube][state]") {
  requireCorrupt({{"phase", "completed"}, {"attempt-id", "a"}, {"holder", "p"}},
                 "bootstrap-completed");
}

TEST_CASE("state record rejects attempt without id or holder", "[kube][state]") {
  requireCorrupt({{"phase", "claimed"}, {"holder", "p"}}, "attempt-id");
  requireCorrupt({{"phase", "claimed"}, {"attempt-id", "a"}}, "holder");
  requireCorrupt({{"phase", "claimed"}, {"attempt-id", ""}, {"holder", "p"}}, "attempt-id");
}

TEST_CASE("state record rejects claim keys without phase", "[kube][state]") {
  for (const char* key : {"attempt-id", "holder", "claimed-at", "renewed-at", "lease-duration",
                          "shares-possibly-delivered", "keepers-acknowledged"}) {
    INFO(key);
    requireCorrupt({{key, "1"}}, key);
  }
}

TEST_CASE("state record rejects bad attempt values", "[kube][state]") {
  kube::ConfigMapData base = {{"phase", "delivering"}, {"attempt-id", "a"}, {"holder", "p"}};
  struct Case {
    const char* key;
    const char* value;
  };
  Case cases[] = {
      {"renewed-at", "yesterday"},
      {"claimed-at", "2024-05-01T12:34:56"},
      {"lease-duration", "15"},
      {"lease-duration", "0s"},
      {"lease-duration", "-5s"},
      {"shares-possibly-delivered", "1,,2"},
      {"shares-possibly-delivered", "0"},
      {"shares-possibly-delivered", "01"},
      {"shares-possibly-delivered", "1,1"},
      {"shares-possibly-delivered", "two"},
      {"shares-possibly-delivered", "1, 2"},
      {"keepers-acknowledged", "-1"},
  };
  for (const auto& [key, value] : cases) {
    INFO(key << "=" << value);
    kube::ConfigMapData data = base;
    data[key] = value;
    requireCorrupt(data, key);
  }
}

TEST_CASE("state record rejects partial deployment", "[kube][state]") {
  kube::ConfigMapData data = kube::applyStateRecord(delivering(), {});
  data.erase("deployment-threshold");
  requireCorrupt(data, "deployment-threshold");

  data = kube::applyStateRecord(delivering(), {});
  data["deployment-trust-roots"] = "spike.ist";
  requireCorrupt(data, "deployment-trust-roots");

  data = kube::applyStateRecord(delivering(), {});
  data["deployment-shares"] = "three";
  requireCorrupt(data, "deployment-shares");
}

TEST_CASE("state record round trips", "[kube][state]") {
  kube::StateRecord record = delivering();
  record.lastError = "keeper 2 (https://k2:8443): connection refused";

  kube::ConfigMapData data = kube::applyStateRecord(record, {});
  CHECK(data.at("phase") == "delivering");
  CHECK(data.at("attempt-id") == "a1b2c3");
  CHECK(data.at("holder") == "bootstrap-xyz");
  CHECK(data.at("claimed-at") == "2024-05-01T12:34:56.000Z");
  CHECK(data.at("renewed-at") == "2024-05-01T12:35:01.250Z");
  CHECK(data.at("lease-duration") == "15s");
  CHECK(data.at("shares-possibly-delivered") == "1,3");
  CHECK(data.at("keepers-acknowledged") == "1");
  CHECK(data.at("deployment-keeper-peers") == "https://k1:8443,https://k2:8443,https://k3:8443");
  CHECK(data.at("deployment-shares") == "3");
  CHECK(data.at("deployment-threshold") == "2");
  CHECK(data.at("deployment-trust-roots") ==
        "bootstrap=spike.ist;keeper=spike.ist;nexus=spike.ist");
  CHECK(data.at("deployment-fingerprint") == record.deployment->fingerprint());
  CHECK(data.count("bootstrap-completed") == 0);

  auto parsed = kube::parseStateRecord(data);
  REQUIRE(parsed.ok());
  CHECK(parsed->phase == kube::Phase::kDelivering);
  CHECK(parsed->attemptId == record.attemptId);
  CHECK(parsed->holder == record.holder);
  CHECK(parsed->claimedAt == record.claimedAt);
  CHECK(parsed->renewedAt == record.renewedAt);
  CHECK(parsed->leaseDuration == record.leaseDuration);
  CHECK(parsed->sharesPossiblyDelivered == record.sharesPossiblyDelivered);
  CHECK(parsed->keepersAcknowledged == record.keepersAcknowledged);
  CHECK(parsed->lastError == record.lastError);
  REQUIRE(parsed->deployment.has_value());
  CHECK(*parsed->deployment == *record.deployment);
  CHECK(parsed->deploymentFingerprint == record.deployment->fingerprint());
}

TEST_CASE("state record completion round trips", "[kube][state]") {
  kube::StateRecord record = delivering();
  record.phase = kube::Phase::kCompleted;
  record.completed = true;
  record.completedAt = "2024-05-01T12:40:00Z";
  record.completedByPod = "bootstrap-xyz";

  auto parsed = kube::parseStateRecord(kube::applyStateRecord(record, {}));
  REQUIRE(parsed.ok());
  CHECK(parsed->completed);
  CHECK(parsed->phase == kube::Phase::kCompleted);
  CHECK(parsed->completedAt == "2024-05-01T12:40:00Z");
}

TEST_CASE("state record apply keeps foreign keys", "[kube][state]") {
  kube::ConfigMapData data = {{"operator-note", "hands off"},
                              {"phase", "failed"},
                              {"attempt-id", "old"},
                              {"holder", "p"},
                              {"last-error", "old failure"}};
  kube::StateRecord cleared;  // no attempt, not completed

  kube::ConfigMapData applied = kube::applyStateRecord(cleared, data);
  CHECK(applied.size() == 1);
  CHECK(applied.at("operator-note") == "hands off");
}

TEST_CASE("state record patch deletes empty keys", "[kube][state]") {
  kube::StateRecord record = delivering();
  record.keepersAcknowledged.clear();

  kube::DataPatch patch = kube::stateRecordPatch(record);
  CHECK(patch.at("phase") == "delivering");
  CHECK(patch.at("shares-possibly-delivered") == "1,3");
  CHECK_FALSE(patch.at("keepers-acknowledged").has_value());
  CHECK_FALSE(patch.at("bootstrap-completed").has_value());
  CHECK_FALSE(patch.at("last-error").has_value());
  CHECK(patch.count("operator-note") == 0);
}

TEST_CASE("state record bounds last error", "[kube][state]") {
  kube::StateRecord record = delivering();
  record.lastError = "line one\nline two\t" + std::string(2000, 'x');

  kube::ConfigMapData data = kube::applyStateRecord(record, {});
  const std::string& stored = data.at("last-error");
  CHECK(stored.size() == kube::kMaxLastErrorBytes);
  CHECK(stored.rfind("line one line two ", 0) == 0);
}

TEST_CASE("deployment from config sorts trust domains", "[kube][state]") {
  config::Config config;
  config::KeeperPeer first;
  first.id = 1;
  first.url = "https://k1";
  config::KeeperPeer second;
  second.id = 2;
  second.url = "https://k2";
  config.keeperPeers = {second, first};
  config.shamirShares = 2;
  config.shamirThreshold = 2;
  config.trustRoots = {{"b.org", "a.org"}, {"k.org"}, {"n.org"}};

  kube::Deployment deployment = kube::Deployment::fromConfig(config);
  CHECK(deployment.keeperPeers == std::vector<std::string>{"https://k1", "https://k2"});
  CHECK(deployment.trustRoots.bootstrap == std::vector<std::string>{"a.org", "b.org"});
  CHECK(deployment.shares == 2);
  CHECK(deployment.threshold == 2);
}

TEST_CASE("deployment fingerprint ignores domain order", "[kube][state]") {
  kube::Deployment first = sampleDeployment();
  first.trustRoots.keeper = {"a.org", "b.org"};
  kube::Deployment second = first;
  second.trustRoots.keeper = {"b.org", "a.org"};

  CHECK(first.fingerprint() == second.fingerprint());
  CHECK(first.fingerprint().rfind("sha256:", 0) == 0);
  CHECK(first.fingerprint().size() == 7 + 64);
}

TEST_CASE("deployment fingerprint follows keeper order", "[kube][state]") {
  kube::Deployment first = sampleDeployment();
  kube::Deployment swapped = first;
  std::swap(swapped.keeperPeers[0], swapped.keeperPeers[1]);
  kube::Deployment higherThreshold = first;
  higherThreshold.threshold = 3;

  CHECK(first.fingerprint() != swapped.fingerprint());
  CHECK(first.fingerprint() != higherThreshold.fingerprint());
}

TEST_CASE("deployment diff lists each changed setting", "[kube][state]") {
  kube::Deployment recorded = sampleDeployment();
  kube::Deployment current = recorded;
  current.keeperPeers[2] = "https://k4:8443";
  current.threshold = 3;
  current.trustRoots.nexus = {"other.org"};

  auto changes = kube::diffDeployments(recorded, current);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].setting == "keeper peers");
  CHECK(changes[0].recorded == "https://k1:8443,https://k2:8443,https://k3:8443");
  CHECK(changes[0].current == "https://k1:8443,https://k2:8443,https://k4:8443");
  CHECK(changes[1].setting == "threshold");
  CHECK(changes[1].recorded == "2");
  CHECK(changes[1].current == "3");
  CHECK(changes[2].setting == "nexus trust roots");

  CHECK(kube::diffDeployments(recorded, recorded).empty());
}

TEST_CASE("phase names", "[kube][state]") {
  CHECK(kube::phaseName(kube::Phase::kNone).empty());
  CHECK(kube::phaseName(kube::Phase::kClaimed) == "claimed");
  CHECK(kube::phaseName(kube::Phase::kDelivering) == "delivering");
  CHECK(kube::phaseName(kube::Phase::kVerifying) == "verifying");
  CHECK(kube::phaseName(kube::Phase::kCompleted) == "completed");
  CHECK(kube::phaseName(kube::Phase::kFailed) == "failed");
}
