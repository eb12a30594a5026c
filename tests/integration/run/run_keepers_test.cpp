// The built spike-bootstrap against fake keepers: share delivery, the exact
// shares SPIKE would compute, retries, keepers that stay down and keepers
// that present the wrong SPIFFE ID.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "run_support.h"
#include "spike_bootstrap/crypto/encoding.h"
#include "spike_bootstrap/crypto/shamir.h"

using namespace spike_bootstrap::testing;
using spike_bootstrap::crypto::KeeperShare;
using spike_bootstrap::crypto::recoverRootKey;
using spike_bootstrap::crypto::SecretBytes;
using spike_bootstrap::crypto::splitRootKey;

namespace {

// Returns keeper id's share, failing the test when it has none.
KeeperShare shareOf(FakeDeployment& deployment, int id) {
  std::optional<KeeperShare> share = deployment.keeper(id).share();
  REQUIRE(share.has_value());
  return std::move(*share);
}

SecretBytes recoverFrom(FakeDeployment& deployment, int first, int second) {
  std::vector<KeeperShare> pair;
  pair.push_back(shareOf(deployment, first));
  pair.push_back(shareOf(deployment, second));
  auto key = recoverRootKey(pair, 2);
  REQUIRE(key.ok());
  return std::move(key).value();
}

// Returns the shard as Go's encoding/json writes it in a contribute body.
std::string shardAsJsonArray(const SecretBytes& shard) {
  std::string text;
  for (std::uint8_t byte : shard.span()) {
    text += (text.empty() ? "[" : ",") + std::to_string(byte);
  }
  return text + "]";
}

}  // namespace

TEST_CASE("run delivers SPIKE's exact shares", "[run][keeper]") {
  FakeDeployment deployment;
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  for (int id = 1; id <= 3; ++id) {
    CHECK(deployment.keeper(id).acceptedCount() == 1);
    for (const KeeperRequestRecord& request : deployment.keeper(id).requests()) {
      CHECK(request.callerId == "spiffe://spike.test/spike/bootstrap");
      CHECK(request.target == kContributePath);
    }
  }

  // Any two of the three shares give the same root key.
  SecretBytes fromOneTwo = recoverFrom(deployment, 1, 2);
  SecretBytes fromOneThree = recoverFrom(deployment, 1, 3);
  SecretBytes fromTwoThree = recoverFrom(deployment, 2, 3);
  CHECK(fromOneTwo.equals(fromOneThree.span()));
  CHECK(fromOneTwo.equals(fromTwoThree.span()));

  // Nexus recomputes the shares from the key with SPIKE's deterministic
  // split, so the keepers must already store exactly those values.
  auto expected = splitRootKey(fromOneTwo, 2, 3);
  REQUIRE(expected.ok());
  REQUIRE(expected->size() == 3);
  for (const KeeperShare& share : *expected) {
    CHECK(shareOf(deployment, share.id).value.equals(share.value.span()));
  }

  CHECK(deployment.nexus().verifiedCount() == 1);
  CHECK(contains(lastLine(run.log), "bootstrap completed: exit_code=0"));
  CHECK(contains(lastLine(run.log), "keepers_acknowledged=3/3"));
  CHECK(contains(deployment.terminationLog(), "bootstrap completed: exit_code=0"));
  CHECK(contains(deployment.terminationLog(), "keepers_acknowledged=3/3"));

  // No secret reaches the log, in hex or in the JSON form of the body.
  CHECK_FALSE(contains(run.log, spike_bootstrap::crypto::hexEncode(fromOneTwo.span())));
  for (int id = 1; id <= 3; ++id) {
    SecretBytes shard = shareOf(deployment, id).value.clone();
    CHECK_FALSE(contains(run.log, spike_bootstrap::crypto::hexEncode(shard.span())));
    CHECK_FALSE(contains(run.log, shardAsJsonArray(shard)));
  }
}

TEST_CASE("run retries keepers that fail twice", "[run][keeper]") {
  FakeDeployment deployment;
  deployment.keeper(1).failNext(2, KeeperFault::kUnavailable);
  deployment.keeper(2).failNext(2, KeeperFault::kClose);
  deployment.keeper(3).failNext(2, KeeperFault::kUnavailable);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  for (int id = 1; id <= 3; ++id) {
    INFO("keeper " << id);
    CHECK(deployment.keeper(id).requestCount() == 3);
    CHECK(deployment.keeper(id).acceptedCount() == 1);
  }
  CHECK(deployment.nexus().verifiedCount() == 1);
  CHECK(contains(lastLine(run.log), "keepers_acknowledged=3/3"));
}

TEST_CASE("run completes with one keeper down", "[run][keeper]") {
  FakeDeployment deployment;
  deployment.startWorkloadApi();
  deployment.keeper(1).start();
  deployment.keeper(2).start();
  deployment.startNexus();
  const std::string downUrl = deployment.keeper(3).url();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(deployment.nexus().verifiedCount() == 1);
  CHECK(contains(lastLine(run.log), "keepers_acknowledged=2/3"));
  // The operator learns which keeper lacks its share.
  CHECK_FALSE(linesWith(run.log, {"\"level\":\"warn", "\"keeper_id\":3", downUrl}).empty());
}

TEST_CASE("run fails with too few keepers", "[run][keeper]") {
  FakeDeployment deployment;
  deployment.startWorkloadApi();
  deployment.keeper(1).start();
  deployment.startNexus();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 1);
  CHECK(deployment.keeper(1).acceptedCount() == 1);
  // Nexus is asked to verify only once a threshold stored their shares. The
  // one request allowed is the preflight that checks Nexus has no key yet.
  CHECK(deployment.nexus().requestCount() <= 1);
  for (const VerifyRecord& request : deployment.nexus().requests()) {
    CHECK(request.status == 503);
  }
  CHECK(deployment.nexus().verifiedCount() == 0);

  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, "keepers_acknowledged=1/3"));
  CHECK(contains(summary, deployment.keeper(2).url()));
  CHECK(contains(summary, deployment.keeper(3).url()));
  CHECK(contains(deployment.terminationLog(), deployment.keeper(2).url()));
}

TEST_CASE("run rejects keeper with nexus ID", "[run][keeper]") {
  FakeDeploymentOptions options;
  options.keeperSpiffeIds[2] = "spiffe://spike.test/spike/nexus";
  FakeDeployment deployment(options);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  // Keepers 1 and 3 make the threshold. Keeper 2 never gets a request body,
  // because bootstrap ends the handshake on reading the nexus ID.
  CHECK(run.exitCode == 0);
  CHECK(deployment.keeper(2).requestCount() == 0);
  CHECK_FALSE(deployment.keeper(2).shard().has_value());
  REQUIRE(deployment.keeper(2).waitForHandshakes(1, 5s));
  CHECK(deployment.keeper(2).failedHandshakeCount() >= 1);
  CHECK(deployment.keeper(1).acceptedCount() == 1);
  CHECK(deployment.keeper(3).acceptedCount() == 1);
  CHECK(contains(lastLine(run.log), "keepers_acknowledged=2/3"));
  CHECK_FALSE(
      linesWith(run.log, {deployment.keeper(2).url(), "spiffe://spike.test/spike/nexus"}).empty());
}

TEST_CASE("run reaches keepers over IPv6 loopback", "[run][keeper]") {
  if (!ipv6LoopbackAvailable()) {
    WARN("skipped: [::1] cannot be bound on this machine");
    return;
  }
  FakeDeploymentOptions options;
  options.address = "::1";
  FakeDeployment deployment(options);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(deployment.nexus().verifiedCount() == 1);
}
