// X509Source against the fake Workload API: a real gRPC server on a Unix
// socket. Covers the late socket, PermissionDenied then success, the security
// header, final InvalidArgument, timeouts, invalid SVIDs, rotation (also
// through a TLS handshake), reconnects and a prompt stop.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "spike_bootstrap/spiffe/spiffe_tls.h"
#include "spike_bootstrap/spiffe/x509_source.h"
#include "support/pki/test_pki.h"
#include "support/pki/tls_loopback.h"
#include "support/workload_api/fake_workload_api.h"
#include "support/workload_api/run_coroutine.h"
#include "support/workload_api/temp_dir.h"
#include "workload.grpc.pb.h"

namespace spike_bootstrap::spiffe {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::FakeSvid;
using testing::FakeWorkloadApi;
using testing::FakeX509Update;
using testing::TestCa;
using testing::TestCert;

const std::string kBootstrapId = "spiffe://example.org/spike/bootstrap";
const std::string kKeeperId = "spiffe://example.org/spike/keeper";

FakeX509Update updateWith(const TestCert& cert, const TestCa& ca) {
  return FakeX509Update{{FakeSvid::of(cert, ca)}, {}};
}

X509SourceOptions optionsFor(const std::string& socketPath,
                             std::chrono::milliseconds timeout = 10s) {
  X509SourceOptions options;
  options.socketPath = socketPath;
  options.timeout = timeout;
  return options;
}

std::int64_t elapsedMs(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Collects the snapshots a source publishes, so a test can wait for one.
class UpdateWatcher {
 public:
  std::function<void(const std::shared_ptr<const X509Snapshot>&)> callback() {
    return [this](const std::shared_ptr<const X509Snapshot>& snapshot) {
      std::lock_guard lock(mutex_);
      fingerprints_.push_back(certificateFingerprint(snapshot->svid.leaf()));
      changed_.notify_all();
    };
  }

  // Waits up to 5 s for a snapshot whose leaf is cert.
  bool waitFor(const TestCert& cert) {
    const std::string expected = certificateFingerprint(cert.cert());
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] {
      return std::find(fingerprints_.begin(), fingerprints_.end(), expected) != fingerprints_.end();
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> fingerprints_;
};

}  // namespace

TEST_CASE("source fetches first SVID and bundle", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  TestCa other = TestCa::root("other.org");
  TestCert svid = ca.issueSvid(kBootstrapId);
  FakeWorkloadApi agent(dir.file("agent.sock"));
  FakeX509Update update = updateWith(svid, ca);
  update.federatedBundles["spiffe://other.org"] = other.bundleDer();
  agent.setUpdate(update);
  agent.start();

  X509Source source(optionsFor(agent.socketPath()));
  CHECK(source.current() == nullptr);
  Status status = testing::runCoroutine(source.start());

  REQUIRE(status.ok());
  std::shared_ptr<const X509Snapshot> snapshot = source.current();
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->svid.id.toString() == kBootstrapId);
  CHECK(X509_cmp(snapshot->svid.leaf(), svid.cert()) == 0);
  CHECK(snapshot->bundle.trustDomain == "example.org");
  CHECK(snapshot->bundleFor("other.org") != nullptr);
  CHECK(source.provider()() == snapshot);
}

TEST_CASE("source waits for late socket", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kBootstrapId), ca));
  agent.startAfter(600ms);

  X509Source source(optionsFor(agent.socketPath()));
  auto start = Clock::now();
  Status status = testing::runCoroutine(source.start());

  INFO(status.toString());
  CHECK(status.ok());
  CHECK(elapsedMs(start) >= 600);
  CHECK(source.current() != nullptr);
}

TEST_CASE("source retries PermissionDenied until identity", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kBootstrapId), ca));
  agent.denyNextCalls(3);
  agent.start();

  X509Source source(optionsFor(agent.socketPath()));
  Status status = testing::runCoroutine(source.start());

  INFO(status.toString());
  CHECK(status.ok());
  CHECK(agent.stats().calls == 4);
  CHECK(source.current() != nullptr);
}

TEST_CASE("source sends the security header", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kBootstrapId), ca));
  agent.start();

  SECTION("fake rejects a call without the header") {
    auto stub = SpiffeWorkloadAPI::NewStub(
        grpc::CreateChannel("unix:" + agent.socketPath(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    auto reader = stub->FetchX509SVID(&context, X509SVIDRequest());
    X509SVIDResponse response;
    CHECK_FALSE(reader->Read(&response));
    grpc::Status status = reader->Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "security header missing from request");
    CHECK(agent.stats().callsWithoutHeader == 1);
  }

  SECTION("source calls carry the header") {
    X509Source source(optionsFor(agent.socketPath()));
    Status status = testing::runCoroutine(source.start());
    CHECK(status.ok());
    CHECK(agent.stats().calls == 1);
    CHECK(agent.stats().callsWithoutHeader == 0);
  }
}

TEST_CASE("source stops at InvalidArgument", "[spiffe][workload-api]") {
  testing::TempDir dir;
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.failNextCalls(100, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
                      "security header missing from request");
  agent.start();

  X509Source source(optionsFor(agent.socketPath()));
  auto start = Clock::now();
  Status status = testing::runCoroutine(source.start());

  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message(), Catch::Contains("security header missing"));
  CHECK(elapsedMs(start) < 2000);
  CHECK(agent.stats().calls == 1);
  CHECK(source.current() == nullptr);
}

TEST_CASE("source times out naming socket and last error", "[spiffe][workload-api]") {
  testing::TempDir dir;
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.denyNextCalls(1000);
  agent.start();

  X509Source source(optionsFor(agent.socketPath(), 800ms));
  auto start = Clock::now();
  Status status = testing::runCoroutine(source.start());

  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(status.message(), Catch::Contains(agent.socketPath()));
  CHECK_THAT(status.message(), Catch::Contains("last error: PermissionDenied: FetchX509SVID"));
  CHECK_THAT(status.message(), Catch::Contains("no identity issued"));
  CHECK(elapsedMs(start) >= 800);
  CHECK(elapsedMs(start) < 2500);
  CHECK(agent.stats().calls >= 2);
}

TEST_CASE("source times out without socket", "[spiffe][workload-api]") {
  testing::TempDir dir;
  X509Source source(optionsFor(dir.file("absent.sock"), 300ms));
  Status status = testing::runCoroutine(source.start());

  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(status.message(), Catch::Contains(dir.file("absent.sock")));
}

TEST_CASE("source skips invalid SVID for next update", "[spiffe][workload-api]") {
  // Given an agent whose first update is a leaf with the CA flag set,
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  testing::CertOptions caLeaf = testing::svidOptions(kBootstrapId);
  caLeaf.isCa = true;
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issue(caLeaf), ca));
  agent.start();

  // when a valid SVID follows 300 ms later on the same stream,
  TestCert good = ca.issueSvid(kBootstrapId);
  std::thread pusher([&] {
    std::this_thread::sleep_for(300ms);
    agent.setUpdate(updateWith(good, ca));
  });
  X509Source source(optionsFor(agent.socketPath()));
  Status status = testing::runCoroutine(source.start());
  pusher.join();

  // then the source starts with the valid one.
  REQUIRE(status.ok());
  CHECK(X509_cmp(source.current()->svid.leaf(), good.cert()) == 0);
  CHECK(agent.stats().calls == 1);
}

TEST_CASE("source timeout reports invalid SVID", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  testing::CertOptions noSignature = testing::svidOptions(kBootstrapId);
  noSignature.keyUsage = {"keyEncipherment"};
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issue(noSignature), ca));
  agent.start();

  X509Source source(optionsFor(agent.socketPath(), 500ms));
  Status status = testing::runCoroutine(source.start());

  CHECK(status.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(status.message(), Catch::Contains("invalid update"));
  CHECK_THAT(status.message(), Catch::Contains("digitalSignature"));
  CHECK(source.current() == nullptr);
}

TEST_CASE("source publishes rotation", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  TestCert first = ca.issueSvid(kBootstrapId);
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(first, ca));
  agent.start();

  UpdateWatcher watcher;
  X509SourceOptions options = optionsFor(agent.socketPath());
  options.onUpdate = watcher.callback();
  X509Source source(std::move(options));
  REQUIRE(testing::runCoroutine(source.start()).ok());
  std::shared_ptr<const X509Snapshot> before = source.current();

  TestCa newCa = TestCa::root("example.org");
  TestCert second = newCa.issueSvid(kBootstrapId);
  agent.setUpdate(updateWith(second, newCa));

  REQUIRE(watcher.waitFor(second));
  CHECK(X509_cmp(source.current()->svid.leaf(), second.cert()) == 0);
  // Holders of the old snapshot keep a complete, unchanged object.
  CHECK(X509_cmp(before->svid.leaf(), first.cert()) == 0);
}

TEST_CASE("source keeps snapshot while agent restarts", "[spiffe][workload-api]") {
  // Given a running source,
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  TestCert first = ca.issueSvid(kBootstrapId);
  auto agent = std::make_unique<FakeWorkloadApi>(dir.file("agent.sock"));
  agent->setUpdate(updateWith(first, ca));
  agent->start();
  UpdateWatcher watcher;
  X509SourceOptions options = optionsFor(agent->socketPath());
  options.onUpdate = watcher.callback();
  X509Source source(std::move(options));
  REQUIRE(testing::runCoroutine(source.start()).ok());

  // when the agent goes away for a while,
  agent.reset();
  std::this_thread::sleep_for(300ms);

  // then the last snapshot stays in use,
  REQUIRE(source.current() != nullptr);
  CHECK(X509_cmp(source.current()->svid.leaf(), first.cert()) == 0);

  // and a restarted agent's SVID is picked up.
  TestCert second = ca.issueSvid(kBootstrapId);
  FakeWorkloadApi restarted(dir.file("agent.sock"));
  restarted.setUpdate(updateWith(second, ca));
  restarted.start();
  REQUIRE(watcher.waitFor(second));
  CHECK(X509_cmp(source.current()->svid.leaf(), second.cert()) == 0);
}

TEST_CASE("source reopens ended stream", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kBootstrapId), ca));
  agent.start();
  X509Source source(optionsFor(agent.socketPath()));
  REQUIRE(testing::runCoroutine(source.start()).ok());

  agent.endStreams();

  CHECK(agent.waitForCalls(2, 5s));
  CHECK(source.current() != nullptr);
}

TEST_CASE("source stop is prompt while streaming", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kBootstrapId), ca));
  agent.start();
  X509Source source(optionsFor(agent.socketPath()));
  REQUIRE(testing::runCoroutine(source.start()).ok());

  auto start = Clock::now();
  source.stop();
  CHECK(elapsedMs(start) < 1000);
  // The snapshot stays readable after stop().
  CHECK(source.current() != nullptr);
  source.stop();
}

TEST_CASE("source start is cancellable", "[spiffe][workload-api]") {
  // Given an agent that never issues an identity,
  testing::TempDir dir;
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.denyNextCalls(100000);
  agent.start();
  X509Source source(optionsFor(agent.socketPath(), 30s));

  // when the caller cancels start() after 300 ms, as SIGTERM handling does,
  boost::asio::io_context io;
  boost::asio::cancellation_signal cancel;
  boost::asio::steady_timer timer(io, 300ms);
  timer.async_wait(
      [&](boost::system::error_code) { cancel.emit(boost::asio::cancellation_type::terminal); });
  std::optional<Status> result;
  auto start = Clock::now();
  boost::asio::co_spawn(io, source.start(),
                        boost::asio::bind_cancellation_slot(
                            cancel.slot(), [&](std::exception_ptr error, Status status) {
                              REQUIRE_FALSE(error);
                              result = status;
                            }));
  io.run();

  // then start() returns Cancelled at once and the stream thread is gone.
  REQUIRE(result.has_value());
  CHECK(result->code() == StatusCode::kCancelled);
  CHECK(elapsedMs(start) < 1300);
  auto stopStart = Clock::now();
  source.stop();
  CHECK(elapsedMs(stopStart) < 100);
}

TEST_CASE("source stop from another thread ends start", "[spiffe][workload-api]") {
  testing::TempDir dir;
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.denyNextCalls(100000);
  agent.start();
  X509Source source(optionsFor(agent.socketPath(), 30s));

  std::thread stopper([&] {
    REQUIRE(agent.waitForCalls(1, 5s));
    source.stop();
  });
  auto start = Clock::now();
  Status status = testing::runCoroutine(source.start());
  stopper.join();

  CHECK(status.code() == StatusCode::kCancelled);
  CHECK(elapsedMs(start) < 2000);
}

TEST_CASE("source ID is checked against bootstrap role", "[spiffe][workload-api]") {
  testing::TempDir dir;
  TestCa ca = TestCa::root("example.org");
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate(updateWith(ca.issueSvid(kKeeperId), ca));
  agent.start();
  X509Source source(optionsFor(agent.socketPath()));
  REQUIRE(testing::runCoroutine(source.start()).ok());

  Status identity =
      checkOwnIdentity(source.current()->svid.id, RolePolicy(Role::kBootstrap, {"example.org"}));

  CHECK(identity.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(identity.message(), Catch::Contains("own SPIFFE ID " + kKeeperId));
  CHECK_THAT(identity.message(),
             Catch::Contains("a bootstrap ID (spiffe://example.org/spike/bootstrap[/...])"));
}

TEST_CASE("rotated SVID is presented on next handshake", "[spiffe][workload-api][tls]") {
  // Given a source serving an SVID from the first CA and a keeper that
  // trusts both the first and the next CA,
  testing::TempDir dir;
  TestCa oldCa = TestCa::root("example.org");
  TestCa newCa = TestCa::root("example.org");
  testing::Der bothRoots =
      testing::concatDer({oldCa.certificate().cert(), newCa.certificate().cert()});
  TestCert firstSvid = oldCa.issueSvid(kBootstrapId);
  FakeWorkloadApi agent(dir.file("agent.sock"));
  agent.setUpdate({{FakeSvid::of(firstSvid, bothRoots)}, {}});
  agent.start();

  UpdateWatcher watcher;
  X509SourceOptions options = optionsFor(agent.socketPath());
  options.onUpdate = watcher.callback();
  X509Source source(std::move(options));
  REQUIRE(testing::runCoroutine(source.start()).ok());

  TestCert keeperSvid = newCa.issueSvid(kKeeperId);
  SvidMaterial keeperMaterial;
  keeperMaterial.chainDer = keeperSvid.chainDer();
  keeperMaterial.keyDer = crypto::SecretBytes::copyOf(keeperSvid.keyDer());
  keeperMaterial.bundleDer = bothRoots;
  auto keeperSnapshot = makeX509Snapshot(keeperMaterial, {});
  REQUIRE(keeperSnapshot.ok());
  auto serverContext = makeSpiffeServerContext([snapshot = *keeperSnapshot] { return snapshot; },
                                               PeerPolicy(Role::kBootstrap, {"example.org"}));
  REQUIRE(serverContext.ok());
  testing::TlsLoopbackServer keeper(std::move(serverContext).value());
  SpiffeTlsProfile profile(source.provider(), Role::kKeeper, {"example.org"});
  const net::Url url{"127.0.0.1", keeper.port(), ""};

  auto firstContext = profile.makeContext(url);
  REQUIRE(firstContext.ok());
  REQUIRE(testing::connectTls(firstContext->get(), keeper.port()).ok);
  testing::TlsOutcome firstHandshake = keeper.nextOutcome();

  // when the agent pushes an SVID signed by the new CA mid-run,
  TestCert secondSvid = newCa.issueSvid(kBootstrapId);
  agent.setUpdate({{FakeSvid::of(secondSvid, bothRoots)}, {}});
  REQUIRE(watcher.waitFor(secondSvid));

  // then the next handshake presents it.
  auto secondContext = profile.makeContext(url);
  REQUIRE(secondContext.ok());
  testing::TlsOutcome client = testing::connectTls(secondContext->get(), keeper.port());
  INFO(client.error);
  REQUIRE(client.ok);
  testing::TlsOutcome secondHandshake = keeper.nextOutcome();
  CHECK(firstHandshake.peerFingerprint == certificateFingerprint(firstSvid.cert()));
  CHECK(secondHandshake.peerFingerprint == certificateFingerprint(secondSvid.cert()));
}

}  // namespace spike_bootstrap::spiffe
