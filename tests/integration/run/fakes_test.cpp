// The fake keeper and fake Nexus on their own, driven by the project's HTTPS
// client with SPIFFE mTLS: they must accept and reject what the real servers
// do, or the run's tests would prove nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/encoding.h"
#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/net/https_client.h"
#include "spike_bootstrap/spiffe/spiffe_tls.h"
#include "spike_bootstrap/spiffe/svid.h"
#include "spike_bootstrap/spike/wire.h"
#include "support/keeper/fake_keeper.h"
#include "support/nexus/fake_nexus.h"
#include "support/workload_api/run_coroutine.h"

using namespace spike_bootstrap;
using namespace spike_bootstrap::testing;

namespace {

constexpr const char* kBootstrapId = "spiffe://spike.test/spike/bootstrap";

// A client with its own SVID from ca that accepts servers of serverRole.
class SpiffeClient {
 public:
  SpiffeClient(const TestCa& ca, const std::string& spiffeId, spiffe::Role serverRole) {
    TestCert cert = ca.issueSvid(spiffeId);
    spiffe::SvidMaterial material;
    material.spiffeId = spiffeId;
    material.chainDer = cert.chainDer();
    material.keyDer = crypto::SecretBytes::copyOf(cert.keyDer());
    material.bundleDer = ca.bundleDer();
    auto snapshot = spiffe::makeX509Snapshot(material, {});
    REQUIRE(snapshot.ok());
    snapshot_ = std::move(snapshot).value();
    profile_ = std::make_unique<spiffe::SpiffeTlsProfile>(
        [this] { return snapshot_; }, serverRole, std::vector<std::string>{ca.trustDomain()});
  }

  // Posts body to baseUrl + path and returns the response; fails the test on
  // a transport error.
  net::HttpResponse post(const std::string& baseUrl, const std::string& path,
                         const std::string& body) {
    auto base = net::parseHttpsUrl(baseUrl);
    REQUIRE(base.ok());
    net::HttpRequest request;
    request.url = net::joinPath(*base, path);
    request.body = body;
    std::optional<Result<net::HttpResponse>> response = runCoroutine(send(request));
    REQUIRE(response.has_value());
    INFO((response->ok() ? "" : response->status().toString()));
    REQUIRE(response->ok());
    return std::move(*response).value();
  }

 private:
  // Wraps the result in an optional, because runCoroutine() needs a
  // default-constructible type.
  boost::asio::awaitable<std::optional<Result<net::HttpResponse>>> send(net::HttpRequest request) {
    co_return co_await net::sendRequest(std::move(request), *profile_, net::RequestOptions{});
  }

  std::shared_ptr<const spiffe::X509Snapshot> snapshot_;
  std::unique_ptr<spiffe::SpiffeTlsProfile> profile_;
};

crypto::SecretBytes testRootKey() {
  auto key = crypto::generateRootKey();
  REQUIRE(key.ok());
  return std::move(key).value();
}

std::string contributeBody(const crypto::SecretBytes& shard) {
  auto body = spike::encodeContributeBody(shard.span());
  REQUIRE(body.ok());
  return std::string(body->span().begin(), body->span().end());
}

}  // namespace

TEST_CASE("fake keeper stores a bootstrap shard", "[fakes][keeper]") {
  TestCa ca = TestCa::root("spike.test");
  FakeKeeper keeper(ca, FakeKeeperOptions{});
  keeper.start();
  SpiffeClient bootstrap(ca, kBootstrapId, spiffe::Role::kKeeper);
  crypto::SecretBytes shard = testRootKey();

  net::HttpResponse response = bootstrap.post(keeper.url(), kContributePath, contributeBody(shard));

  CHECK(response.status == 200);
  CHECK(response.body == "{}");
  REQUIRE(keeper.shard().has_value());
  CHECK(keeper.shard()->equals(shard.span()));
  CHECK(keeper.acceptedCount() == 1);
  CHECK(keeper.requests().at(0).callerId == kBootstrapId);
  CHECK(keeper.shardFingerprint().size() == 64);
}

TEST_CASE("fake keeper accepts nexus callers", "[fakes][keeper]") {
  TestCa ca = TestCa::root("spike.test");
  FakeKeeper keeper(ca, FakeKeeperOptions{});
  keeper.start();
  SpiffeClient nexus(ca, "spiffe://spike.test/spike/nexus", spiffe::Role::kKeeper);

  net::HttpResponse response =
      nexus.post(keeper.url(), kContributePath, contributeBody(testRootKey()));

  CHECK(response.status == 200);
}

TEST_CASE("fake keeper rejects other callers", "[fakes][keeper]") {
  TestCa ca = TestCa::root("spike.test");
  FakeKeeper keeper(ca, FakeKeeperOptions{});
  keeper.start();
  SpiffeClient other(ca, "spiffe://spike.test/spike/keeper/9", spiffe::Role::kKeeper);

  net::HttpResponse response =
      other.post(keeper.url(), kContributePath, contributeBody(testRootKey()));

  CHECK(response.status == 401);
  CHECK_FALSE(keeper.shard().has_value());
}

TEST_CASE("fake keeper rejects bad bodies", "[fakes][keeper]") {
  TestCa ca = TestCa::root("spike.test");
  FakeKeeper keeper(ca, FakeKeeperOptions{});
  keeper.start();
  SpiffeClient bootstrap(ca, kBootstrapId, spiffe::Role::kKeeper);
  const std::vector<std::string> bodies = {
      R"({"shard":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})",  // base64, not an array
      R"({"shard":[1,2,3]})",                                         // too short
      R"({"shard":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})",
      "not json",
  };

  for (const std::string& body : bodies) {
    INFO(body);
    CHECK(bootstrap.post(keeper.url(), kContributePath, body).status == 400);
  }
  CHECK(bootstrap.post(keeper.url(), "/v1/store/shard", "{}").status == 400);
  CHECK_FALSE(keeper.shard().has_value());
}

TEST_CASE("fake keeper fails the first requests", "[fakes][keeper]") {
  TestCa ca = TestCa::root("spike.test");
  FakeKeeper keeper(ca, FakeKeeperOptions{});
  keeper.failNext(2, KeeperFault::kUnavailable);
  keeper.start();
  SpiffeClient bootstrap(ca, kBootstrapId, spiffe::Role::kKeeper);
  std::string body = contributeBody(testRootKey());

  CHECK(bootstrap.post(keeper.url(), kContributePath, body).status == 503);
  CHECK(bootstrap.post(keeper.url(), kContributePath, body).status == 503);
  CHECK(bootstrap.post(keeper.url(), kContributePath, body).status == 200);
  CHECK(keeper.requestCount() == 3);
  CHECK(keeper.acceptedCount() == 1);
}

TEST_CASE("fake nexus verifies a probe", "[fakes][nexus]") {
  TestCa ca = TestCa::root("spike.test");
  crypto::SecretBytes rootKey = testRootKey();
  auto split = crypto::splitRootKey(rootKey, 2, 3);
  REQUIRE(split.ok());
  std::atomic<bool> keepersReady = false;
  FakeNexus nexus(
      ca,
      [&] {
        std::vector<crypto::KeeperShare> shares;
        if (keepersReady) {
          shares.push_back({2, split->at(1).value.clone()});
          shares.push_back({3, split->at(2).value.clone()});
        }
        return shares;
      },
      2);
  nexus.start();
  SpiffeClient bootstrap(ca, kBootstrapId, spiffe::Role::kNexus);
  auto probe = crypto::sealProbe(rootKey);
  REQUIRE(probe.ok());
  std::string body = spike::encodeVerifyRequest(*probe);

  // Before the keepers have a threshold of shares, Nexus is not ready.
  CHECK(bootstrap.post(nexus.url(), kVerifyPath, body).status == 503);

  keepersReady = true;
  net::HttpResponse response = bootstrap.post(nexus.url(), kVerifyPath, body);
  CHECK(response.status == 200);
  auto hash = spike::decodeVerifyResponse(response.body);
  REQUIRE(hash.ok());
  CHECK(*hash == probe->expectedHash);
  CHECK(nexus.verifiedCount() == 1);
}

TEST_CASE("fake nexus fails foreign probes", "[fakes][nexus]") {
  TestCa ca = TestCa::root("spike.test");
  crypto::SecretBytes rootKey = testRootKey();
  auto split = crypto::splitRootKey(rootKey, 1, 1);
  REQUIRE(split.ok());
  FakeNexus nexus(
      ca,
      [&] {
        std::vector<crypto::KeeperShare> shares;
        shares.push_back({1, split->at(0).value.clone()});
        return shares;
      },
      1);
  nexus.start();
  SpiffeClient bootstrap(ca, kBootstrapId, spiffe::Role::kNexus);
  auto foreign = crypto::sealProbe(testRootKey());
  auto own = crypto::sealProbe(rootKey);
  REQUIRE(foreign.ok());
  REQUIRE(own.ok());

  // A probe under another key does not open: 500, as Nexus does.
  CHECK(bootstrap.post(nexus.url(), kVerifyPath, spike::encodeVerifyRequest(*foreign)).status ==
        500);

  // Scripted faults: 500 and a well-formed but wrong hash.
  nexus.setBehavior(NexusBehavior::kServerError);
  CHECK(bootstrap.post(nexus.url(), kVerifyPath, spike::encodeVerifyRequest(*own)).status == 500);
  nexus.setBehavior(NexusBehavior::kWrongHash);
  net::HttpResponse wrong =
      bootstrap.post(nexus.url(), kVerifyPath, spike::encodeVerifyRequest(*own));
  CHECK(wrong.status == 200);
  auto hash = spike::decodeVerifyResponse(wrong.body);
  REQUIRE(hash.ok());
  CHECK(*hash != own->expectedHash);
  CHECK(nexus.verifiedCount() == 0);
}

TEST_CASE("fake nexus rejects other callers", "[fakes][nexus]") {
  TestCa ca = TestCa::root("spike.test");
  FakeNexus nexus(
      ca, [] { return std::vector<crypto::KeeperShare>{}; }, 2);
  nexus.start();
  SpiffeClient keeper(ca, "spiffe://spike.test/spike/keeper/1", spiffe::Role::kNexus);
  auto probe = crypto::sealProbe(testRootKey());
  REQUIRE(probe.ok());

  CHECK(keeper.post(nexus.url(), kVerifyPath, spike::encodeVerifyRequest(*probe)).status == 401);
  CHECK(keeper.post(nexus.url(), kVerifyPath, "{}").status == 401);
}
