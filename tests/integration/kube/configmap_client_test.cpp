// The ConfigMap client against the fake API server over real TLS.
#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/configmap_client.h"
#include "support/kube/fake_kube_api.h"
#include "support/kube/run_awaitable.h"

namespace kube = spike_bootstrap::kube;
namespace testing = spike_bootstrap::testing;
using spike_bootstrap::StatusCode;
using testing::KubeFault;
using namespace std::chrono_literals;

namespace {

constexpr const char* kName = "spike-bootstrap-state";

// Retries fast, so tests of retry behaviour take milliseconds.
kube::ApiClientOptions fastRetries() {
  kube::ApiClientOptions options;
  options.attemptTimeout = 2s;
  options.retry.initialInterval = 5ms;
  options.retry.maxInterval = 20ms;
  options.retry.maxAttempts = 4;
  options.retry.maxElapsed = 10s;
  return options;
}

struct Fixture {
  explicit Fixture(kube::ApiClientOptions options = fastRetries(),
                   testing::FakeKubeApiOptions fakeOptions = {})
      : fake(std::move(fakeOptions)),
        api(fake.inClusterConfig(), std::move(options)),
        client(api) {}

  kube::ApiResult<kube::ConfigMap> get() { return testing::runAwaitable(client.get(kName)); }

  kube::ApiResult<kube::ConfigMap> create(kube::ConfigMapData data) {
    kube::ConfigMap configMap;
    configMap.name = kName;
    configMap.data = std::move(data);
    return testing::runAwaitable(client.create(std::move(configMap)));
  }

  testing::FakeKubeApi fake;
  kube::ApiClient api;
  kube::ConfigMapClient client;
};

}  // namespace

TEST_CASE("configmap get of missing object is not found", "[kube][client]") {
  Fixture fixture;
  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().notFound());
  CHECK(result.error().httpStatus == 404);
  CHECK(result.status().code() == StatusCode::kNotFound);
  CHECK(fixture.fake.callCount("get") == 1);
}

TEST_CASE("configmap get returns seeded data", "[kube][client]") {
  Fixture fixture;
  std::string version = fixture.fake.seedConfigMap(kName, {{"bootstrap-completed", "true"}});

  auto result = fixture.get();
  REQUIRE(result.ok());
  CHECK(result->name == kName);
  CHECK(result->namespaceName == "spike");
  CHECK(result->resourceVersion == version);
  CHECK(result->data.at("bootstrap-completed") == "true");
  CHECK_FALSE(result->uid.empty());
}

TEST_CASE("configmap requests carry the bearer token", "[kube][client]") {
  Fixture fixture;
  fixture.get();
  auto calls = fixture.fake.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].token == fixture.fake.token());
  CHECK(calls[0].path == "/api/v1/namespaces/spike/configmaps/spike-bootstrap-state");
}

TEST_CASE("configmap create then create again", "[kube][client]") {
  Fixture fixture;
  auto created = fixture.create({{"phase", "claimed"}});
  REQUIRE(created.ok());
  CHECK_FALSE(created->resourceVersion.empty());
  CHECK(created->data.at("phase") == "claimed");
  REQUIRE(fixture.fake.configMap(kName).has_value());
  CHECK(fixture.fake.configMap(kName)->data.at("phase") == "claimed");

  auto second = fixture.create({{"phase", "claimed"}});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().alreadyExists());
  CHECK_FALSE(second.error().mayHaveApplied);
  CHECK(second.status().code() == StatusCode::kAlreadyExists);
}

TEST_CASE("configmap update guarded by resource version", "[kube][client]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}});
  auto read = fixture.get();
  REQUIRE(read.ok());

  // Given two writers that read the same version, the first update wins.
  kube::ConfigMap first = *read;
  first.data["phase"] = "delivering";
  auto updated = testing::runAwaitable(fixture.client.update(first));
  REQUIRE(updated.ok());
  CHECK(updated->resourceVersion != read->resourceVersion);
  CHECK(updated->data.at("phase") == "delivering");

  // Then the second, still holding the old version, gets a Conflict.
  kube::ConfigMap second = *read;
  second.data["phase"] = "failed";
  auto conflicting = testing::runAwaitable(fixture.client.update(second));
  REQUIRE_FALSE(conflicting.ok());
  CHECK(conflicting.error().conflict());
  CHECK(conflicting.status().code() == StatusCode::kAborted);
  CHECK(fixture.fake.configMap(kName)->data.at("phase") == "delivering");
}

TEST_CASE("configmap update without version overwrites", "[kube][client]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}});
  auto read = fixture.get();
  REQUIRE(read.ok());
  fixture.fake.seedConfigMap(kName, {{"phase", "delivering"}});

  kube::ConfigMap blind = *read;
  blind.resourceVersion.clear();
  blind.data = {{"phase", "failed"}};
  auto updated = testing::runAwaitable(fixture.client.update(blind));
  REQUIRE(updated.ok());
  CHECK(fixture.fake.configMap(kName)->data.at("phase") == "failed");
}

TEST_CASE("configmap update of missing object", "[kube][client]") {
  Fixture fixture;
  kube::ConfigMap configMap;
  configMap.name = kName;
  configMap.resourceVersion = "1";
  auto result = testing::runAwaitable(fixture.client.update(configMap));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().notFound());
}

TEST_CASE("configmap merge patch sets and deletes", "[kube][client]") {
  Fixture fixture;
  std::string version =
      fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}, {"holder", "pod-a"}, {"x", "y"}});

  kube::DataPatch patch = {{"phase", "failed"}, {"holder", std::nullopt}};
  auto patched = testing::runAwaitable(fixture.client.patch(kName, patch, version));
  REQUIRE(patched.ok());
  CHECK(patched->data.at("phase") == "failed");
  CHECK(patched->data.count("holder") == 0);
  CHECK(patched->data.at("x") == "y");
  CHECK(fixture.fake.calls().back().contentType == "application/merge-patch+json");
}

TEST_CASE("configmap merge patch with stale version", "[kube][client]") {
  Fixture fixture;
  std::string stale = fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}});
  fixture.fake.seedConfigMap(kName, {{"phase", "delivering"}});

  auto patched = testing::runAwaitable(
      fixture.client.patch(kName, kube::DataPatch{{"phase", "failed"}}, stale));
  REQUIRE_FALSE(patched.ok());
  CHECK(patched.error().conflict());
  CHECK(fixture.fake.configMap(kName)->data.at("phase") == "delivering");

  auto unguarded =
      testing::runAwaitable(fixture.client.patch(kName, kube::DataPatch{{"phase", "failed"}}));
  REQUIRE(unguarded.ok());
  CHECK(unguarded->data.at("phase") == "failed");
}

TEST_CASE("configmap invalid name is rejected locally", "[kube][client]") {
  Fixture fixture;
  auto result = testing::runAwaitable(fixture.client.get("../secrets/x"));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  CHECK(fixture.fake.callCount("") == 0);
}

TEST_CASE("configmap client rereads rotated token", "[kube][client]") {
  Fixture fixture;
  std::string before = fixture.fake.token();
  REQUIRE(fixture.get().error().notFound());

  fixture.fake.rotateToken();
  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().notFound());

  auto calls = fixture.fake.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].token == before);
  CHECK(calls[1].token == fixture.fake.token());
  CHECK(calls[1].token != before);
}

TEST_CASE("configmap unauthorized is not retried", "[kube][client]") {
  Fixture fixture;
  std::string old = fixture.fake.token();
  fixture.fake.rotateToken();
  fixture.fake.serviceAccountDir().writeToken(old);

  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().unauthorized());
  CHECK(result.status().code() == StatusCode::kUnauthenticated);
  CHECK(fixture.fake.callCount("get") == 1);
}

TEST_CASE("configmap forbidden get names the verb", "[kube][client]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::respond("get", 403));

  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().forbidden());
  CHECK_FALSE(result.error().notFound());
  CHECK(result.status().code() == StatusCode::kPermissionDenied);
  CHECK_THAT(result.status().message(), Catch::Contains("add verb \"get\""));
  CHECK_THAT(result.status().message(),
             Catch::Contains("system:serviceaccount:spike:spike-bootstrap"));
  CHECK(fixture.fake.callCount("get") == 1);
}

TEST_CASE("configmap forbidden update names the verb", "[kube][client]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, {});
  fixture.fake.addFault(KubeFault::respond("update", 403));
  auto read = fixture.get();
  REQUIRE(read.ok());

  auto result = testing::runAwaitable(fixture.client.update(*read));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().verb == "update");
  CHECK_THAT(result.status().message(), Catch::Contains("add verb \"update\""));
}

TEST_CASE("configmap server errors are retried", "[kube][client]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}});
  fixture.fake.addFault(KubeFault::respond("get", 500, 1));
  fixture.fake.addFault(KubeFault::respond("get", 503, 1));

  auto result = fixture.get();
  REQUIRE(result.ok());
  CHECK(result->data.at("phase") == "claimed");
  CHECK(fixture.fake.callCount("get") == 3);
}

TEST_CASE("configmap retries are bounded", "[kube][client]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::respond("get", 503));

  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().httpStatus == 503);
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(result.status().message(), Catch::Contains("giving up after 4 attempts"));
  CHECK(fixture.fake.callCount("get") == 4);
}

TEST_CASE("configmap too many requests honours retry-after", "[kube][client]") {
  kube::ApiClientOptions options = fastRetries();
  options.retry.maxInterval = 2s;
  Fixture fixture(options);
  KubeFault throttled = KubeFault::respond("get", 429, 1);
  throttled.retryAfterSeconds = 1;
  fixture.fake.addFault(throttled);

  auto start = std::chrono::steady_clock::now();
  auto result = fixture.get();
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().notFound());
  CHECK(fixture.fake.callCount("get") == 2);
  CHECK(elapsed >= 1s);
}

TEST_CASE("configmap retry-after is capped", "[kube][client]") {
  Fixture fixture;
  KubeFault throttled = KubeFault::respond("get", 429, 1);
  throttled.retryAfterSeconds = 3600;
  fixture.fake.addFault(throttled);

  auto start = std::chrono::steady_clock::now();
  auto result = fixture.get();
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(result.error().notFound());
  CHECK(elapsed < 2s);
}

TEST_CASE("configmap slow response is retried", "[kube][client]") {
  kube::ApiClientOptions options = fastRetries();
  options.attemptTimeout = 300ms;
  Fixture fixture(options);
  KubeFault slow = KubeFault::act("get", KubeFault::Action::kDelay, 1);
  slow.delay = 2s;
  fixture.fake.addFault(slow);

  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().notFound());
  CHECK(fixture.fake.callCount("get") == 2);
}

TEST_CASE("configmap hung server hits the deadline", "[kube][client]") {
  kube::ApiClientOptions options = fastRetries();
  options.attemptTimeout = 5s;
  options.deadline = std::chrono::steady_clock::now() + 500ms;
  Fixture fixture(options);
  fixture.fake.addFault(KubeFault::act("get", KubeFault::Action::kHang));

  auto start = std::chrono::steady_clock::now();
  auto result = fixture.get();
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(elapsed < 3s);
}

TEST_CASE("configmap lost create response", "[kube][client]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::act("create", KubeFault::Action::kApplyThenDrop, 1));

  // The first create is stored but its response is lost, so the retry finds
  // the name taken; the error marks our own write as a possible cause.
  auto result = fixture.create({{"attempt-id", "a1"}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().alreadyExists());
  CHECK(result.error().mayHaveApplied);
  CHECK(fixture.fake.callCount("create") == 2);
  REQUIRE(fixture.fake.configMap(kName).has_value());
  CHECK(fixture.fake.configMap(kName)->data.at("attempt-id") == "a1");
}

TEST_CASE("configmap lost update response", "[kube][client]") {
  Fixture fixture;
  fixture.fake.seedConfigMap(kName, {{"phase", "claimed"}});
  KubeFault lost = KubeFault::act("update", KubeFault::Action::kApplyThenRespond, 1);
  lost.status = 504;
  fixture.fake.addFault(lost);
  auto read = fixture.get();
  REQUIRE(read.ok());

  kube::ConfigMap next = *read;
  next.data["phase"] = "delivering";
  auto result = testing::runAwaitable(fixture.client.update(next));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().conflict());
  CHECK(result.error().mayHaveApplied);
  CHECK(fixture.fake.configMap(kName)->data.at("phase") == "delivering");
}

TEST_CASE("configmap throttled write may not have applied", "[kube][client]") {
  Fixture fixture;
  fixture.fake.addFault(KubeFault::respond("create", 429, 1));
  fixture.fake.addFault(KubeFault::respond("create", 403, 1));

  auto result = fixture.create({});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().forbidden());
  CHECK_FALSE(result.error().mayHaveApplied);
}

TEST_CASE("configmap redirect is not followed", "[kube][client]") {
  Fixture fixture;
  KubeFault redirect = KubeFault::respond("get", 307);
  redirect.location = "https://127.0.0.1:1/api/v1/namespaces/spike/configmaps/x";
  fixture.fake.addFault(redirect);

  auto result = fixture.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().httpStatus == 307);
  CHECK(result.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(result.status().message(), Catch::Contains("redirects are not followed"));
  CHECK(fixture.fake.callCount("get") == 1);
}

TEST_CASE("configmap client rejects unknown ca", "[kube][client]") {
  testing::FakeKubeApi fake;
  kube::InClusterConfig genuine = fake.inClusterConfig();
  std::string otherCa = testing::TestCa::root(testing::caOptions("other-ca")).bundlePem();
  kube::InClusterConfig wrongCa(genuine.apiServer(), genuine.namespaceName(), otherCa,
                                genuine.tokenPath());
  kube::ApiClient api(wrongCa, fastRetries());
  kube::ConfigMapClient client(api);

  auto result = testing::runAwaitable(client.get(kName));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().httpStatus == 0);
  CHECK(result.status().code() == StatusCode::kPermissionDenied);
  CHECK(fake.callCount("") == 0);
}

TEST_CASE("configmap client over ipv6 loopback", "[kube][client]") {
  if (!testing::ipv6LoopbackAvailable()) {
    WARN("skipped: no IPv6 loopback");
    return;
  }
  testing::FakeKubeApiOptions fakeOptions;
  fakeOptions.address = "::1";
  Fixture fixture(fastRetries(), fakeOptions);
  CHECK(fixture.api.config().apiServer().toString().rfind("https://[::1]:", 0) == 0);

  auto created = fixture.create({{"k", "v"}});
  REQUIRE(created.ok());
  auto read = fixture.get();
  REQUIRE(read.ok());
  CHECK(read->data.at("k") == "v");
}

TEST_CASE("configmap client against unreachable server", "[kube][client]") {
  testing::FakeKubeApi fake;
  kube::InClusterConfig genuine = fake.inClusterConfig();
  auto url = kube::apiServerUrl("127.0.0.1", std::to_string(testing::closedPort()));
  REQUIRE(url.ok());
  kube::InClusterConfig closed(*url, genuine.namespaceName(), genuine.caPem(), genuine.tokenPath());
  kube::ApiClient api(closed, fastRetries());
  kube::ConfigMapClient client(api);

  auto result = testing::runAwaitable(client.get(kName));
  REQUIRE_FALSE(result.ok());
  CHECK_FALSE(result.error().notFound());
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(result.status().message(), Catch::Contains("giving up after 4 attempts"));
}
