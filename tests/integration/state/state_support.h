// Helpers for the state record's end-to-end tests: a fake deployment with a
// fake Kubernetes API server, records to seed, and checks on what the
// keepers and Nexus received.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "integration/run/run_support.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/kube/rfc3339.h"
#include "spike_bootstrap/kube/state_record.h"

namespace spike_bootstrap::testing {

// Options for a deployment whose run keeps its record in the fake API server.
inline FakeDeploymentOptions clusterOptions() {
  FakeDeploymentOptions options;
  options.kubernetes = true;
  return options;
}

// Returns environment without the variables that put the run in a cluster,
// so it runs as on bare metal.
inline Environment withoutCluster(Environment environment) {
  for (const char* name : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
                           "SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR", "POD_NAME", "POD_NAMESPACE"}) {
    environment.erase(name);
  }
  return environment;
}

// Polls condition every 20 ms until it holds; false when timeout passed first.
inline bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Returns the value of key in the state ConfigMap, "" when the key or the
// ConfigMap is missing.
inline std::string stateValue(const FakeDeployment& deployment, const std::string& key) {
  std::optional<kube::ConfigMap> configMap = deployment.stateConfigMap();
  if (!configMap) {
    return "";
  }
  auto found = configMap->data.find(key);
  return found == configMap->data.end() ? "" : found->second;
}

// Returns the parsed state record; fails the test when it is missing or corrupt.
inline kube::StateRecord stateRecord(const FakeDeployment& deployment) {
  std::optional<kube::ConfigMap> configMap = deployment.stateConfigMap();
  REQUIRE(configMap.has_value());
  Result<kube::StateRecord> record = kube::parseStateRecord(configMap->data);
  INFO((record.ok() ? "" : record.status().toString()));
  REQUIRE(record.ok());
  return std::move(record).value();
}

// Returns the deployment that environment describes, as the run records it.
inline kube::Deployment deploymentOf(const Environment& environment) {
  Result<config::Config> config =
      config::loadConfig([&](std::string_view name) -> std::optional<std::string> {
        auto found = environment.find(std::string(name));
        if (found == environment.end()) {
          return std::nullopt;
        }
        return found->second;
      });
  INFO((config.ok() ? "" : config.status().toString()));
  REQUIRE(config.ok());
  return kube::Deployment::fromConfig(*config);
}

// Returns a record of a completed bootstrap, as a finished run leaves it.
inline kube::StateRecord completedRecord(const kube::Deployment& deployment,
                                         const std::string& completedAt,
                                         const std::string& completedByPod) {
  kube::StateRecord record;
  record.completed = true;
  record.completedAt = completedAt;
  record.completedByPod = completedByPod;
  record.phase = kube::Phase::kCompleted;
  record.attemptId = "0123456789abcdef0123456789abcdef";
  record.holder = completedByPod;
  record.claimedAt = kube::parseRfc3339(completedAt).value();
  record.renewedAt = record.claimedAt;
  record.leaseDuration = std::chrono::seconds(15);
  record.sharesPossiblyDelivered = {1, 2, 3};
  record.keepersAcknowledged = {1, 2, 3};
  record.deployment = deployment;
  record.deploymentFingerprint = deployment.fingerprint();
  return record;
}

// A claim of another run that is in phase, renewed now, with its lease.
inline kube::StateRecord claimRecord(const kube::Deployment& deployment, kube::Phase phase,
                                     std::chrono::milliseconds lease,
                                     std::set<int> possiblyDelivered) {
  kube::StateRecord record;
  record.phase = phase;
  record.attemptId = "fedcba9876543210fedcba9876543210";
  record.holder = "spike-bootstrap-earlier";
  record.claimedAt = std::chrono::system_clock::now() - std::chrono::minutes(5);
  record.renewedAt = std::chrono::system_clock::now();
  record.leaseDuration = lease;
  record.sharesPossiblyDelivered = std::move(possiblyDelivered);
  record.deployment = deployment;
  record.deploymentFingerprint = deployment.fingerprint();
  return record;
}

// Stores record as the state ConfigMap.
inline void seedRecord(FakeDeployment& deployment, const kube::StateRecord& record) {
  deployment.kubeApi().seedConfigMap(kStateConfigMapName, kube::applyStateRecord(record, {}));
}

// Returns the number of shares the keepers accepted, over all keepers.
inline int acceptedShares(FakeDeployment& deployment) {
  int accepted = 0;
  for (int id = 1; id <= deployment.keeperCount(); ++id) {
    accepted += deployment.keeper(id).acceptedCount();
  }
  return accepted;
}

// Checks that no keeper and not Nexus saw as much as a TCP connection that
// completed a TLS handshake or a request.
inline void checkNothingSent(FakeDeployment& deployment) {
  for (int id = 1; id <= deployment.keeperCount(); ++id) {
    INFO("keeper " << id);
    CHECK(deployment.keeper(id).connectionCount() == 0);
    CHECK(deployment.keeper(id).requestCount() == 0);
  }
  CHECK(deployment.nexus().requestCount() == 0);
}

// Returns the root key rebuilt from the shares of the keepers in ids.
inline crypto::SecretBytes recoverFrom(FakeDeployment& deployment, const std::vector<int>& ids) {
  std::vector<crypto::KeeperShare> shares;
  for (int id : ids) {
    std::optional<crypto::KeeperShare> share = deployment.keeper(id).share();
    REQUIRE(share.has_value());
    shares.push_back(std::move(*share));
  }
  Result<crypto::SecretBytes> key = crypto::recoverRootKey(shares, static_cast<int>(shares.size()));
  INFO((key.ok() ? "" : key.status().toString()));
  REQUIRE(key.ok());
  return std::move(key).value();
}

// Checks that the shares of three keepers with threshold 2 lie on one
// polynomial: every pair of them rebuilds the same root key. Shares of two
// different keys would rebuild different keys from different pairs.
inline void checkOneRootKey(FakeDeployment& deployment) {
  crypto::SecretBytes fromFirstTwo = recoverFrom(deployment, {1, 2});
  crypto::SecretBytes fromOuterTwo = recoverFrom(deployment, {1, 3});
  crypto::SecretBytes fromLastTwo = recoverFrom(deployment, {2, 3});
  CHECK(fromFirstTwo.equals(fromOuterTwo.span()));
  CHECK(fromFirstTwo.equals(fromLastTwo.span()));
}

// Runs `spike-bootstrap <arguments>` (such as status) to completion.
inline ProcessResult runCommand(const std::vector<std::string>& arguments,
                                const Environment& environment) {
  return runProcess(SPIKE_BOOTSTRAP_BINARY, arguments, environment, std::chrono::seconds(30));
}

// Waits up to limit for child's exit and kills it if it still runs; returns
// the exit code, or -1 after a kill.
inline int waitForExit(ChildProcess& child, std::chrono::milliseconds limit = kRunLimit) {
  std::optional<int> code = child.wait(limit);
  if (!code) {
    child.sendSignal(SIGKILL);
    child.wait(std::chrono::seconds(10));
  }
  return code.value_or(-1);
}

}  // namespace spike_bootstrap::testing
