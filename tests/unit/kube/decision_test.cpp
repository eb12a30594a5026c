#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/decision.h"

namespace kube = spike_bootstrap::kube;
namespace config = spike_bootstrap::config;
using kube::Action;
using spike_bootstrap::Status;
using spike_bootstrap::StatusCode;
using namespace std::chrono_literals;

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

const SteadyTime kStart = SteadyTime(100h);

kube::Deployment deployment(int threshold = 2) {
  kube::Deployment value;
  value.keeperPeers = {"https://k1", "https://k2", "https://k3"};
  value.shares = 3;
  value.threshold = threshold;
  value.trustRoots = {{"spike.ist"}, {"spike.ist"}, {"spike.ist"}};
  return value;
}

kube::DecisionInputs clusterInputs() {
  kube::DecisionInputs inputs;
  inputs.inCluster = true;
  inputs.configMapName = "spike-bootstrap-state";
  inputs.deployment = deployment();
  inputs.leaseDuration = 15s;
  return inputs;
}

kube::ApiResult<kube::ConfigMap> found(const kube::ConfigMapData& data,
                                       std::string resourceVersion = "10") {
  kube::ConfigMap configMap;
  configMap.name = "spike-bootstrap-state";
  configMap.resourceVersion = std::move(resourceVersion);
  configMap.data = data;
  return configMap;
}

kube::ApiResult<kube::ConfigMap> failed(int httpStatus, std::string reason, StatusCode code) {
  kube::ApiError error;
  error.httpStatus = httpStatus;
  error.reason = std::move(reason);
  error.verb = "get";
  error.resource = "configmaps";
  error.status = Status(code, "get configmaps: HTTP " + std::to_string(httpStatus));
  return error;
}

kube::ConfigMapData claim(kube::Phase phase, std::set<int> delivered, int recordedThreshold = 2) {
  kube::StateRecord record;
  record.phase = phase;
  record.attemptId = "attempt-1";
  record.holder = "bootstrap-old";
  record.leaseDuration = 15s;
  record.sharesPossiblyDelivered = std::move(delivered);
  record.deployment = deployment(recordedThreshold);
  return kube::applyStateRecord(record, {});
}

kube::Decision decide(const kube::DecisionInputs& inputs,
                      const kube::ApiResult<kube::ConfigMap>& read, SteadyTime now = kStart) {
  kube::ClaimWatch watch;
  return kube::decideBootstrap(inputs, &read, watch, now);
}

}  // namespace

TEST_CASE("decision skips memory backend", "[kube][decision]") {
  kube::DecisionInputs inputs = clusterInputs();
  inputs.backendStore = config::BackendStore::kMemory;
  kube::ClaimWatch watch;

  auto decision = kube::decideBootstrap(inputs, nullptr, watch, kStart);
  CHECK(decision.action == Action::kSkipMemoryBackend);
  CHECK(kube::exitCodeFor(decision.action) == 0);
}

TEST_CASE("decision outside a cluster runs", "[kube][decision]") {
  kube::DecisionInputs inputs = clusterInputs();
  inputs.inCluster = false;
  kube::ClaimWatch watch;

  auto decision = kube::decideBootstrap(inputs, nullptr, watch, kStart);
  CHECK(decision.action == Action::kRunWithoutState);
  CHECK_FALSE(kube::exitCodeFor(decision.action).has_value());
}

TEST_CASE("decision claims on not found", "[kube][decision]") {
  auto decision = decide(clusterInputs(), failed(404, "NotFound", StatusCode::kNotFound));
  CHECK(decision.action == Action::kCreateClaim);
  CHECK(decision.status.ok());
}

TEST_CASE("decision fails on other read errors", "[kube][decision]") {
  struct Case {
    int httpStatus;
    const char* reason;
    StatusCode code;
  };
  Case cases[] = {
      {404, "", StatusCode::kNotFound},  // a 404 without a NotFound status
      {403, "Forbidden", StatusCode::kPermissionDenied},
      {401, "Unauthorized", StatusCode::kUnauthenticated},
      {500, "InternalError", StatusCode::kUnavailable},
      {0, "", StatusCode::kUnavailable},  // unreachable
      {0, "", StatusCode::kDeadlineExceeded},
  };
  for (const auto& [httpStatus, reason, code] : cases) {
    INFO(httpStatus << " " << reason);
    auto decision = decide(clusterInputs(), failed(httpStatus, reason, code));
    CHECK(decision.action == Action::kFail);
    CHECK(kube::exitCodeFor(decision.action) == 1);
    CHECK(decision.status.code() == code);
    CHECK_THAT(decision.summary, Catch::Contains("no keeper is contacted"));
  }
}

TEST_CASE("decision refuses corrupt record", "[kube][decision]") {
  for (bool force : {false, true}) {
    kube::DecisionInputs inputs = clusterInputs();
    inputs.force = force;
    auto decision = decide(inputs, found({{"bootstrap-completed", "yes"}}));
    CHECK(decision.action == Action::kRefuse);
    CHECK(kube::exitCodeFor(decision.action) == 3);
    CHECK(decision.status.code() == StatusCode::kDataLoss);
    CHECK_THAT(decision.summary, Catch::Contains("bootstrap-completed"));
  }
}

TEST_CASE("decision skips completed record", "[kube][decision]") {
  auto decision = decide(clusterInputs(), found({{"bootstrap-completed", "true"},
                                                 {"completed-at", "2024-05-01T12:34:56Z"},
                                                 {"completed-by-pod", "bootstrap-abc"}}));
  CHECK(decision.action == Action::kSkipCompleted);
  CHECK(kube::exitCodeFor(decision.action) == 0);
  CHECK_THAT(decision.summary, Catch::Contains("2024-05-01T12:34:56Z"));
  CHECK_THAT(decision.summary, Catch::Contains("bootstrap-abc"));
  CHECK(decision.drift.empty());
}

TEST_CASE("decision warns about drift but skips", "[kube][decision]") {
  kube::StateRecord record;
  record.completed = true;
  record.completedAt = "2024-05-01T12:34:56Z";
  record.completedByPod = "bootstrap-abc";
  record.phase = kube::Phase::kCompleted;
  record.attemptId = "a";
  record.holder = "bootstrap-abc";
  record.deployment = deployment();
  kube::DecisionInputs inputs = clusterInputs();
  inputs.deployment.threshold = 3;

  auto decision = decide(inputs, found(kube::applyStateRecord(record, {})));
  CHECK(decision.action == Action::kSkipCompleted);
  REQUIRE(decision.drift.size() == 1);
  CHECK(decision.drift[0].setting == "threshold");
  CHECK_THAT(decision.summary, Catch::Contains("threshold: 2 -> 3"));
}

TEST_CASE("decision forced over completed record", "[kube][decision]") {
  kube::DecisionInputs inputs = clusterInputs();
  inputs.force = true;
  auto decision = decide(inputs, found({{"bootstrap-completed", "true"}}, "42"));
  CHECK(decision.action == Action::kTakeOver);
  CHECK(decision.forced);
  CHECK(decision.resourceVersion == "42");
}

TEST_CASE("decision forced waits for live claim", "[kube][decision]") {
  kube::DecisionInputs inputs = clusterInputs();
  inputs.force = true;
  kube::ConfigMapData data = claim(kube::Phase::kDelivering, {1});
  data["bootstrap-completed"] = "true";

  auto decision = decide(inputs, found(data));
  CHECK(decision.action == Action::kWait);
}

TEST_CASE("decision claims record without attempt", "[kube][decision]") {
  auto decision = decide(clusterInputs(), found({{"operator-note", "x"}}, "7"));
  CHECK(decision.action == Action::kTakeOver);
  CHECK_FALSE(decision.forced);
  CHECK(decision.resourceVersion == "7");
}

TEST_CASE("decision waits for live claim", "[kube][decision]") {
  auto decision = decide(clusterInputs(), found(claim(kube::Phase::kDelivering, {1})));
  CHECK(decision.action == Action::kWait);
  CHECK(decision.waitFor > 0s);
  CHECK(decision.waitFor <= 2s);
  CHECK_THAT(decision.summary, Catch::Contains("bootstrap-old"));
}

TEST_CASE("decision takes over stale claim", "[kube][decision]") {
  kube::ClaimWatch watch;
  kube::DecisionInputs inputs = clusterInputs();
  auto read = found(claim(kube::Phase::kDelivering, {1}), "10");

  // Given a claim first seen at kStart, it is still live when unchanged for
  // just under one lease. It is stale after a whole lease.
  CHECK(kube::decideBootstrap(inputs, &read, watch, kStart).action == Action::kWait);
  CHECK(kube::decideBootstrap(inputs, &read, watch, kStart + 14s).action == Action::kWait);
  auto decision = kube::decideBootstrap(inputs, &read, watch, kStart + 15s);
  CHECK(decision.action == Action::kTakeOver);
  CHECK_FALSE(decision.forced);
  CHECK(decision.resourceVersion == "10");
  CHECK_THAT(decision.summary, Catch::Contains("stale"));
}

TEST_CASE("decision renewed claim stays live", "[kube][decision]") {
  kube::ClaimWatch watch;
  kube::DecisionInputs inputs = clusterInputs();
  auto first = found(claim(kube::Phase::kDelivering, {1}), "10");
  auto renewed = found(claim(kube::Phase::kDelivering, {1}), "11");

  CHECK(kube::decideBootstrap(inputs, &first, watch, kStart).action == Action::kWait);
  CHECK(kube::decideBootstrap(inputs, &renewed, watch, kStart + 10s).action == Action::kWait);
  CHECK(kube::decideBootstrap(inputs, &renewed, watch, kStart + 20s).action == Action::kWait);
  CHECK(kube::decideBootstrap(inputs, &renewed, watch, kStart + 25s).action == Action::kTakeOver);
}

TEST_CASE("decision uses recorded lease", "[kube][decision]") {
  kube::ClaimWatch watch;
  kube::DecisionInputs inputs = clusterInputs();
  inputs.leaseDuration = 60s;
  auto read = found(claim(kube::Phase::kClaimed, {}), "10");  // recorded lease 15s

  CHECK(kube::decideBootstrap(inputs, &read, watch, kStart).action == Action::kWait);
  CHECK(kube::decideBootstrap(inputs, &read, watch, kStart + 15s).action == Action::kTakeOver);
}

TEST_CASE("decision refuses stale claim at threshold", "[kube][decision]") {
  kube::ClaimWatch watch;
  kube::DecisionInputs inputs = clusterInputs();
  auto read = found(claim(kube::Phase::kDelivering, {1, 3}), "10");

  kube::decideBootstrap(inputs, &read, watch, kStart);
  auto decision = kube::decideBootstrap(inputs, &read, watch, kStart + 15s);
  CHECK(decision.action == Action::kRefuse);
  CHECK(kube::exitCodeFor(decision.action) == 3);
  CHECK(decision.status.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(decision.summary, Catch::Contains("keepers 1,3"));
  CHECK_THAT(decision.summary, Catch::Contains("threshold 2"));
}

TEST_CASE("decision forced over stale claim at threshold", "[kube][decision]") {
  kube::ClaimWatch watch;
  kube::DecisionInputs inputs = clusterInputs();
  inputs.force = true;
  auto read = found(claim(kube::Phase::kVerifying, {1, 2, 3}), "10");

  CHECK(kube::decideBootstrap(inputs, &read, watch, kStart).action == Action::kWait);
  auto decision = kube::decideBootstrap(inputs, &read, watch, kStart + 15s);
  CHECK(decision.action == Action::kTakeOver);
  CHECK(decision.forced);
}

TEST_CASE("decision takes over failed claim at once", "[kube][decision]") {
  auto decision = decide(clusterInputs(), found(claim(kube::Phase::kFailed, {2})));
  CHECK(decision.action == Action::kTakeOver);
  CHECK_THAT(decision.summary, Catch::Contains("failed"));
}

TEST_CASE("decision refuses failed claim at threshold", "[kube][decision]") {
  auto decision = decide(clusterInputs(), found(claim(kube::Phase::kFailed, {1, 2})));
  CHECK(decision.action == Action::kRefuse);
}

TEST_CASE("decision uses lower threshold", "[kube][decision]") {
  // Recorded with threshold 1: one delivered share already is the root key.
  auto decision = decide(clusterInputs(), found(claim(kube::Phase::kFailed, {2}, 1)));
  CHECK(decision.action == Action::kRefuse);

  kube::StateRecord record;
  record.deployment = deployment(3);
  CHECK(kube::effectiveThreshold(record, deployment(2)) == 2);
  CHECK(kube::effectiveThreshold(record, deployment(4)) == 3);
  CHECK(kube::effectiveThreshold(kube::StateRecord{}, deployment(4)) == 4);
}

TEST_CASE("decision inputs from config", "[kube][decision]") {
  config::Config config;
  config.kubernetesServiceHost = "10.0.0.1";
  config.kubernetesServicePort = "443";
  config.force = true;
  config.leaseDuration = 30s;
  config.shamirThreshold = 3;

  auto inputs = kube::DecisionInputs::fromConfig(config);
  CHECK(inputs.inCluster);
  CHECK(inputs.force);
  CHECK(inputs.leaseDuration == 30s);
  CHECK(inputs.deployment.threshold == 3);
  CHECK(inputs.configMapName == config.configMapName);
}
