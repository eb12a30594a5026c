// Events on the bootstrap pod, against the fake API server over real TLS.
#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/event_recorder.h"
#include "support/kube/fake_kube_api.h"
#include "support/kube/run_awaitable.h"

namespace kube = spike_bootstrap::kube;
namespace testing = spike_bootstrap::testing;
using testing::KubeFault;
using namespace std::chrono_literals;

namespace {

kube::ApiClientOptions fastRetries() {
  kube::ApiClientOptions options;
  options.retry.initialInterval = 5ms;
  options.retry.maxInterval = 20ms;
  return options;
}

}  // namespace

TEST_CASE("event recorded on the pod", "[kube][events]") {
  testing::FakeKubeApi fake;
  kube::ApiClient api(fake.inClusterConfig(), fastRetries());
  kube::EventRecorder recorder(api, {"bootstrap-abc", "spike", ""});

  auto status = testing::runAwaitable(recorder.record(
      kube::EventType::kNormal, "BootstrapCompleted", "root key delivered to 3 keepers"));
  REQUIRE(status.ok());

  auto events = fake.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].namespaceName == "spike");
  CHECK(events[0].type == "Normal");
  CHECK(events[0].reason == "BootstrapCompleted");
  CHECK(events[0].message == "root key delivered to 3 keepers");
  CHECK(events[0].involvedKind == "Pod");
  CHECK(events[0].involvedName == "bootstrap-abc");
  CHECK(events[0].involvedNamespace == "spike");
}

TEST_CASE("event forbidden warns once", "[kube][events]") {
  testing::FakeKubeApi fake;
  KubeFault forbidden = KubeFault::respond("create", 403);
  forbidden.resource = "events";
  fake.addFault(forbidden);
  kube::ApiClient api(fake.inClusterConfig(), fastRetries());
  kube::EventRecorder recorder(api, {"bootstrap-abc", "spike", ""});

  auto first = testing::runAwaitable(
      recorder.record(kube::EventType::kWarning, "BootstrapFailed", "keeper 2 unreachable"));
  auto second = testing::runAwaitable(
      recorder.record(kube::EventType::kWarning, "BootstrapFailed", "keeper 2 unreachable"));
  CHECK(first.ok());
  CHECK(second.ok());
  CHECK(recorder.forbidden());
  CHECK(fake.callCount("create", "events") == 1);
  CHECK(fake.events().empty());
}

TEST_CASE("event failure is returned", "[kube][events]") {
  testing::FakeKubeApi fake;
  KubeFault broken = KubeFault::respond("create", 500);
  broken.resource = "events";
  fake.addFault(broken);
  kube::ApiClient api(fake.inClusterConfig(), fastRetries());
  kube::EventRecorder recorder(api, {"bootstrap-abc", "spike", ""});

  auto status = testing::runAwaitable(
      recorder.record(kube::EventType::kNormal, "BootstrapSkipped", "already completed"));
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == spike_bootstrap::StatusCode::kUnavailable);
  CHECK_FALSE(recorder.forbidden());
  CHECK(fake.callCount("create", "events") == 2);
}

TEST_CASE("event in another namespace is rejected", "[kube][events]") {
  testing::FakeKubeApi fake;
  kube::ApiClient api(fake.inClusterConfig(), fastRetries());
  kube::EventRecorder recorder(api, {"bootstrap-abc", "elsewhere", ""});

  auto status = testing::runAwaitable(
      recorder.record(kube::EventType::kNormal, "BootstrapCompleted", "done"));
  CHECK(status.ok());
  CHECK(recorder.forbidden());
  CHECK(fake.events().empty());
}
