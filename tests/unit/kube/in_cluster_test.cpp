#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/in_cluster.h"
#include "support/kube/service_account_dir.h"
#include "support/pki/test_pki.h"

namespace kube = spike_bootstrap::kube;
namespace testing = spike_bootstrap::testing;
using spike_bootstrap::StatusCode;

namespace {

std::string caPem() {
  static const std::string pem =
      testing::TestCa::root(testing::caOptions("cluster-ca")).bundlePem();
  return pem;
}

void requireAutomountHint(const spike_bootstrap::Status& status, std::string_view file) {
  CHECK(status.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(status.message(), Catch::Contains("automountServiceAccountToken"));
  CHECK_THAT(status.message(), Catch::Contains(std::string(file)));
}

}  // namespace

TEST_CASE("api server url from ipv4 and name", "[kube][in_cluster]") {
  auto ipv4 = kube::apiServerUrl("10.96.0.1", "443");
  REQUIRE(ipv4.ok());
  CHECK(ipv4->host == "10.96.0.1");
  CHECK(ipv4->port == 443);
  CHECK(ipv4->path.empty());

  auto name = kube::apiServerUrl("kubernetes.default.svc", "6443");
  REQUIRE(name.ok());
  CHECK(name->toString() == "https://kubernetes.default.svc:6443");
}

TEST_CASE("api server url brackets ipv6", "[kube][in_cluster]") {
  auto bare = kube::apiServerUrl("fd00:10:96::1", "443");
  REQUIRE(bare.ok());
  CHECK(bare->host == "fd00:10:96::1");
  CHECK(bare->authority() == "[fd00:10:96::1]");
  CHECK(bare->toString() == "https://[fd00:10:96::1]");

  auto bracketed = kube::apiServerUrl("[::1]", "6443");
  REQUIRE(bracketed.ok());
  CHECK(bracketed->host == "::1");
  CHECK(bracketed->authority() == "[::1]:6443");
}

TEST_CASE("api server url rejects bad values", "[kube][in_cluster]") {
  struct Case {
    const char* host;
    const char* port;
  };
  Case cases[] = {{"", "443"},           {"10.0.0.1", ""},     {"10.0.0.1", "0"},
                  {"10.0.0.1", "65536"}, {"10.0.0.1", "http"}, {"10.0.0.1", "443/x"},
                  {"a b", "443"},        {"host/path", "443"}, {"[::1", "443"}};
  for (const auto& [host, port] : cases) {
    INFO(host << " " << port);
    auto url = kube::apiServerUrl(host, port);
    REQUIRE_FALSE(url.ok());
    CHECK(url.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("in cluster config reads service account", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1\n", caPem(), "spike\n");

  auto config = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE(config.ok());
  CHECK(config->apiServer().toString() == "https://127.0.0.1:6443");
  CHECK(config->namespaceName() == "spike");
  CHECK(config->caPem() == caPem());
  auto token = config->readToken();
  REQUIRE(token.ok());
  CHECK(*token == "token-1");
}

TEST_CASE("in cluster config rereads rotated token", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  auto config = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE(config.ok());

  dir.writeToken("token-2");
  auto token = config->readToken();
  REQUIRE(token.ok());
  CHECK(*token == "token-2");
}

TEST_CASE("in cluster config needs token", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  dir.removeFile("token");
  auto missing = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(missing.ok());
  requireAutomountHint(missing.status(), "token");

  dir.writeToken(" \n");
  auto empty = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(empty.ok());
  requireAutomountHint(empty.status(), "token");
  CHECK_THAT(empty.status().message(), Catch::Contains("is empty"));
}

TEST_CASE("in cluster token loss after load", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  auto config = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE(config.ok());

  dir.removeFile("token");
  auto token = config->readToken();
  REQUIRE_FALSE(token.ok());
  requireAutomountHint(token.status(), "token");
}

TEST_CASE("in cluster config needs ca certificate", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  dir.removeFile("ca.crt");
  auto missing = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(missing.ok());
  requireAutomountHint(missing.status(), "ca.crt");

  dir.writeFile("ca.crt", "not a certificate");
  auto garbage = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(garbage.ok());
  requireAutomountHint(garbage.status(), "ca.crt");

  std::string truncated = caPem().substr(0, caPem().size() / 2);
  dir.writeFile("ca.crt", caPem() + truncated);
  auto partial = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(partial.ok());
  requireAutomountHint(partial.status(), "ca.crt");
}

TEST_CASE("in cluster namespace falls back to pod namespace", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  dir.removeFile("namespace");

  auto fallback = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), "from-downward-api");
  REQUIRE(fallback.ok());
  CHECK(fallback->namespaceName() == "from-downward-api");

  auto none = kube::InClusterConfig::load("127.0.0.1", "6443", dir.path(), std::nullopt);
  REQUIRE_FALSE(none.ok());
  requireAutomountHint(none.status(), "namespace");
}

TEST_CASE("in cluster config from config struct", "[kube][in_cluster]") {
  testing::ServiceAccountDir dir("token-1", caPem(), "spike");
  spike_bootstrap::config::Config config;
  config.kubernetesServiceHost = "::1";
  config.kubernetesServicePort = "443";
  config.serviceAccountDir = dir.path().string();

  auto loaded = kube::InClusterConfig::load(config);
  REQUIRE(loaded.ok());
  CHECK(loaded->apiServer().toString() == "https://[::1]");
  CHECK(loaded->namespaceName() == "spike");
}
