// SPIFFE mTLS over real TLS on 127.0.0.1: the client profile's verification
// of servers, the server context's verification of clients, and the use of
// the newest snapshot per connection.
#include <catch2/catch.hpp>

#include <mutex>

#include "spike_bootstrap/spiffe/spiffe_tls.h"
#include "support/pki/test_pki.h"
#include "support/pki/tls_loopback.h"

namespace spike_bootstrap::spiffe {
namespace {

using testing::CertOptions;
using testing::connectTls;
using testing::Der;
using testing::TestCa;
using testing::TestCert;
using testing::TlsLoopbackServer;
using testing::TlsOutcome;

const std::string kBootstrapId = "spiffe://example.org/spike/bootstrap";
const std::string kKeeperId = "spiffe://example.org/spike/keeper/1";
const std::string kNexusId = "spiffe://example.org/spike/nexus";

std::shared_ptr<const X509Snapshot> snapshotOf(const TestCert& cert, Der bundle,
                                               const std::map<std::string, Der>& federated = {}) {
  SvidMaterial material;
  material.chainDer = cert.chainDer();
  material.keyDer = crypto::SecretBytes::copyOf(cert.keyDer());
  material.bundleDer = std::move(bundle);
  auto snapshot = makeX509Snapshot(material, federated);
  REQUIRE(snapshot.ok());
  return *snapshot;
}

SnapshotProvider fixed(std::shared_ptr<const X509Snapshot> snapshot) {
  return [snapshot] { return snapshot; };
}

// Builds a server context that presents cert and requests no client
// certificate, for server certificates that a SPIFFE server context rejects.
SslCtxPtr plainServerContext(const TestCert& cert) {
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  REQUIRE(SSL_CTX_use_certificate(context.get(), cert.cert()) == 1);
  for (const auto& intermediate : cert.intermediates()) {
    REQUIRE(SSL_CTX_add1_chain_cert(context.get(), intermediate.get()) == 1);
  }
  REQUIRE(SSL_CTX_use_PrivateKey(context.get(), cert.key()) == 1);
  return context;
}

SslCtxPtr spiffeServerContext(const TestCert& cert, Der bundle, PeerPolicy policy,
                              const std::map<std::string, Der>& federated = {}) {
  auto context =
      makeSpiffeServerContext(fixed(snapshotOf(cert, std::move(bundle), federated)), policy);
  REQUIRE(context.ok());
  return std::move(context).value();
}

net::Url loopbackUrl(std::uint16_t port) { return net::Url{"127.0.0.1", port, ""}; }

// Dials server with profile and returns the client's outcome. The profile's
// rejection reason, if any, is stored in *rejection.
TlsOutcome dial(const SpiffeTlsProfile& profile, const TlsLoopbackServer& server,
                std::optional<std::string>* rejection = nullptr) {
  auto context = profile.makeContext(loopbackUrl(server.port()));
  REQUIRE(context.ok());
  TlsOutcome outcome = connectTls(context->get(), server.port());
  if (rejection != nullptr) {
    *rejection = profile.peerRejection(context->get());
  }
  return outcome;
}

struct Pki {
  TestCa ca = TestCa::root("example.org");
  TestCert bootstrap = ca.issueSvid(kBootstrapId);
  TestCert keeper = ca.issueSvid(kKeeperId);
  TestCert nexus = ca.issueSvid(kNexusId);
};

}  // namespace

TEST_CASE("client accepts keeper with valid SVID", "[spiffe][tls]") {
  Pki pki;
  TlsLoopbackServer server(
      spiffeServerContext(pki.keeper, pki.ca.bundleDer(), PeerPolicy::anyId()));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  std::optional<std::string> rejection;
  TlsOutcome client = dial(profile, server, &rejection);
  TlsOutcome accepted = server.nextOutcome();

  INFO(client.error);
  CHECK(client.ok);
  CHECK(client.peerUri == kKeeperId);
  CHECK(client.alpn == "http/1.1");
  CHECK_FALSE(rejection.has_value());
  CHECK(accepted.ok);
  CHECK(accepted.peerUri == kBootstrapId);
  CHECK(accepted.alpn == "http/1.1");
}

TEST_CASE("peer SPIFFE ID of established connection", "[spiffe][tls]") {
  Pki pki;
  TlsLoopbackServer server(
      spiffeServerContext(pki.keeper, pki.ca.bundleDer(), PeerPolicy::anyId()));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});
  auto context = profile.makeContext(loopbackUrl(server.port()));
  REQUIRE(context.ok());

  std::optional<SpiffeId> peer;
  TlsOutcome client =
      connectTls(context->get(), server.port(), [&](SSL* ssl) { peer = peerSpiffeId(ssl); });

  REQUIRE(client.ok);
  REQUIRE(peer.has_value());
  CHECK(peer->toString() == kKeeperId);
}

TEST_CASE("client skips host name checks", "[spiffe][tls]") {
  // The keeper SVID names neither 127.0.0.1 nor any DNS name, and the URL's
  // host is 127.0.0.1: only the SPIFFE ID counts.
  Pki pki;
  TlsLoopbackServer server(plainServerContext(pki.keeper));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  CHECK_FALSE(profile.checkHostName());
  CHECK(dial(profile, server).ok);
}

TEST_CASE("client rejects chain to foreign CA", "[spiffe][tls]") {
  Pki pki;
  TestCa foreign = TestCa::root("example.org");
  TlsLoopbackServer server(plainServerContext(foreign.issueSvid(kKeeperId)));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  std::optional<std::string> rejection;
  TlsOutcome client = dial(profile, server, &rejection);

  CHECK_FALSE(client.ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("presented " + kKeeperId));
  CHECK_THAT(*rejection, Catch::Contains("does not verify against the bundle of example.org"));
}

TEST_CASE("client rejects expired server certificate", "[spiffe][tls]") {
  Pki pki;
  CertOptions expired = testing::svidOptions(kKeeperId);
  expired.notBefore = std::chrono::hours(-2);
  expired.notAfter = std::chrono::minutes(-5);
  TlsLoopbackServer server(plainServerContext(pki.ca.issue(expired)));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  std::optional<std::string> rejection;
  CHECK_FALSE(dial(profile, server, &rejection).ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("certificate has expired"));
}

TEST_CASE("client rejects not yet valid server certificate", "[spiffe][tls]") {
  Pki pki;
  CertOptions future = testing::svidOptions(kKeeperId);
  future.notBefore = std::chrono::minutes(5);
  future.notAfter = std::chrono::hours(2);
  TlsLoopbackServer server(plainServerContext(pki.ca.issue(future)));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  std::optional<std::string> rejection;
  CHECK_FALSE(dial(profile, server, &rejection).ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("certificate is not yet valid"));
}

TEST_CASE("client rejects keeper presenting nexus ID", "[spiffe][tls]") {
  Pki pki;
  TlsLoopbackServer server(spiffeServerContext(pki.nexus, pki.ca.bundleDer(), PeerPolicy::anyId()));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  std::optional<std::string> rejection;
  TlsOutcome client = dial(profile, server, &rejection);

  CHECK_FALSE(client.ok);
  REQUIRE(rejection.has_value());
  CHECK(*rejection == "peer https://127.0.0.1:" + std::to_string(server.port()) +
                          " presented spiffe://example.org/spike/nexus, expected a keeper ID "
                          "(spiffe://example.org/spike/keeper[/...])");
}

TEST_CASE("client rejects server leaf breaking SVID rules", "[spiffe][tls]") {
  Pki pki;
  CertOptions caLeaf = testing::svidOptions(kKeeperId);
  caLeaf.isCa = true;
  caLeaf.keyUsage = {"digitalSignature", "keyCertSign"};
  CertOptions twoIds = testing::svidOptions(kKeeperId);
  twoIds.uris.push_back("spiffe://example.org/spike/keeper/2");

  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});
  {
    TlsLoopbackServer server(plainServerContext(pki.ca.issue(caLeaf)));
    std::optional<std::string> rejection;
    CHECK_FALSE(dial(profile, server, &rejection).ok);
    REQUIRE(rejection.has_value());
    CHECK_THAT(*rejection, Catch::Contains("not a valid X.509-SVID"));
    CHECK_THAT(*rejection, Catch::Contains("is a CA"));
  }
  {
    TlsLoopbackServer server(plainServerContext(pki.ca.issue(twoIds)));
    std::optional<std::string> rejection;
    CHECK_FALSE(dial(profile, server, &rejection).ok);
    REQUIRE(rejection.has_value());
    CHECK_THAT(*rejection, Catch::Contains("2 URI SANs"));
  }
}

TEST_CASE("client verifies server intermediates", "[spiffe][tls]") {
  Pki pki;
  TestCa intermediate = pki.ca.intermediate("keeper intermediate");
  TlsLoopbackServer server(plainServerContext(intermediate.issueSvid(kKeeperId)));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});

  TlsOutcome client = dial(profile, server);
  INFO(client.error);
  CHECK(client.ok);
}

TEST_CASE("client accepts federated peer with its bundle", "[spiffe][tls]") {
  Pki pki;
  TestCa other = TestCa::root("other.org");
  const std::string otherKeeper = "spiffe://other.org/spike/keeper";
  TlsLoopbackServer server(spiffeServerContext(other.issueSvid(otherKeeper), other.bundleDer(),
                                               PeerPolicy::anyId(),
                                               {{"spiffe://example.org", pki.ca.bundleDer()}}));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer(),
                                            {{"spiffe://other.org", other.bundleDer()}})),
                           Role::kKeeper, {"example.org", "other.org"});

  TlsOutcome client = dial(profile, server);
  TlsOutcome accepted = server.nextOutcome();
  INFO(client.error);
  CHECK(client.ok);
  CHECK(client.peerUri == otherKeeper);
  CHECK(accepted.ok);
  CHECK(accepted.peerUri == kBootstrapId);
}

TEST_CASE("client rejects federated peer without bundle", "[spiffe][tls]") {
  Pki pki;
  TestCa other = TestCa::root("other.org");
  TlsLoopbackServer server(plainServerContext(other.issueSvid("spiffe://other.org/spike/keeper")));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org", "other.org"});

  std::optional<std::string> rejection;
  CHECK_FALSE(dial(profile, server, &rejection).ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("no trust bundle for trust domain other.org"));
}

TEST_CASE("client rejects federated domain not in role list", "[spiffe][tls]") {
  Pki pki;
  TestCa other = TestCa::root("other.org");
  TlsLoopbackServer server(plainServerContext(other.issueSvid("spiffe://other.org/spike/keeper")));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer(),
                                            {{"spiffe://other.org", other.bundleDer()}})),
                           Role::kKeeper, {"example.org"});

  std::optional<std::string> rejection;
  CHECK_FALSE(dial(profile, server, &rejection).ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("expected a keeper ID (spiffe://example.org/"));
}

TEST_CASE("client rejects other domain signed by own CA", "[spiffe][tls]") {
  // Our CA signs an SVID claiming another trust domain. The chain is checked
  // against the bundle of the claimed domain only, so our CA does not count.
  Pki pki;
  TestCa other = TestCa::root("other.org");
  TlsLoopbackServer server(plainServerContext(pki.ca.issueSvid("spiffe://other.org/spike/keeper")));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer(),
                                            {{"spiffe://other.org", other.bundleDer()}})),
                           Role::kKeeper, {"example.org", "other.org"});

  std::optional<std::string> rejection;
  CHECK_FALSE(dial(profile, server, &rejection).ok);
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("does not verify against the bundle of other.org"));
}

TEST_CASE("server accepts bootstrap and nexus callers", "[spiffe][tls]") {
  Pki pki;
  PeerPolicy keeperCallers(
      {RolePolicy(Role::kBootstrap, {"example.org"}), RolePolicy(Role::kNexus, {"example.org"})});
  TlsLoopbackServer server(spiffeServerContext(pki.keeper, pki.ca.bundleDer(), keeperCallers));

  for (const TestCert* caller : {&pki.bootstrap, &pki.nexus}) {
    SpiffeTlsProfile profile(fixed(snapshotOf(*caller, pki.ca.bundleDer())), Role::kKeeper,
                             {"example.org"});
    TlsOutcome client = dial(profile, server);
    TlsOutcome accepted = server.nextOutcome();
    INFO(client.error);
    CHECK(client.ok);
    CHECK(accepted.ok);
  }
}

TEST_CASE("server rejects caller with wrong role", "[spiffe][tls]") {
  Pki pki;
  TlsLoopbackServer server(spiffeServerContext(pki.nexus, pki.ca.bundleDer(),
                                               PeerPolicy(Role::kBootstrap, {"example.org"})));
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.keeper, pki.ca.bundleDer())), Role::kNexus,
                           {"example.org"});

  TlsOutcome client = dial(profile, server);
  TlsOutcome accepted = server.nextOutcome();

  CHECK_FALSE(client.ok);
  CHECK_FALSE(accepted.ok);
  std::optional<std::string> rejection = spiffeRejection(server.context());
  REQUIRE(rejection.has_value());
  CHECK(*rejection == "client presented " + kKeeperId +
                          ", expected a bootstrap ID (spiffe://example.org/spike/bootstrap[/...])");
}

TEST_CASE("server rejects caller from foreign CA", "[spiffe][tls]") {
  Pki pki;
  TestCa foreign = TestCa::root("example.org");
  TlsLoopbackServer server(
      spiffeServerContext(pki.keeper, pki.ca.bundleDer(), PeerPolicy::anyId()));
  // The impostor trusts our CA, so only the server's check can stop it.
  SpiffeTlsProfile profile(fixed(snapshotOf(foreign.issueSvid(kBootstrapId),
                                            testing::concatDer({foreign.certificate().cert(),
                                                                pki.ca.certificate().cert()}))),
                           Role::kKeeper, {"example.org"});

  CHECK_FALSE(dial(profile, server).ok);
  CHECK_FALSE(server.nextOutcome().ok);
  std::optional<std::string> rejection = spiffeRejection(server.context());
  REQUIRE(rejection.has_value());
  CHECK_THAT(*rejection, Catch::Contains("does not verify against the bundle of example.org"));
}

TEST_CASE("server requires a client certificate", "[spiffe][tls]") {
  Pki pki;
  TlsLoopbackServer server(
      spiffeServerContext(pki.keeper, pki.ca.bundleDer(), PeerPolicy::anyId()));
  SslCtxPtr anonymous(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(anonymous.get(), SSL_VERIFY_NONE, nullptr);

  CHECK_FALSE(connectTls(anonymous.get(), server.port()).ok);
  TlsOutcome accepted = server.nextOutcome();
  CHECK_FALSE(accepted.ok);
  CHECK_THAT(accepted.error, Catch::Contains("peer did not return a certificate"));
}

TEST_CASE("profile without snapshot fails", "[spiffe][tls]") {
  SpiffeTlsProfile profile([] { return std::shared_ptr<const X509Snapshot>(); }, Role::kKeeper,
                           {"example.org"});
  auto context = profile.makeContext(loopbackUrl(8443));
  REQUIRE_FALSE(context.ok());
  CHECK(context.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(context.status().message(), Catch::Contains("https://127.0.0.1:8443"));
}

TEST_CASE("profile context sets TLS 1.2 and ALPN", "[spiffe][tls]") {
  Pki pki;
  SpiffeTlsProfile profile(fixed(snapshotOf(pki.bootstrap, pki.ca.bundleDer())), Role::kKeeper,
                           {"example.org"});
  auto context = profile.makeContext(loopbackUrl(8443));
  REQUIRE(context.ok());
  CHECK(SSL_CTX_get_min_proto_version(context->get()) == TLS1_2_VERSION);
  CHECK(X509_cmp(SSL_CTX_get0_certificate(context->get()), pki.bootstrap.cert()) == 0);
  CHECK_FALSE(profile.peerRejection(context->get()).has_value());
}

TEST_CASE("profile presents newest snapshot", "[spiffe][tls]") {
  // Given a server that trusts the old and the new CA,
  Pki pki;
  TestCa rotated = TestCa::root("example.org");
  Der bothRoots = testing::concatDer({pki.ca.certificate().cert(), rotated.certificate().cert()});
  TlsLoopbackServer server(spiffeServerContext(pki.keeper, bothRoots, PeerPolicy::anyId()));

  std::mutex mutex;
  std::shared_ptr<const X509Snapshot> current = snapshotOf(pki.bootstrap, bothRoots);
  SpiffeTlsProfile profile(
      [&] {
        std::lock_guard lock(mutex);
        return current;
      },
      Role::kKeeper, {"example.org"});

  // when the SVID rotates to one from the new CA between two connections,
  REQUIRE(dial(profile, server).ok);
  TlsOutcome first = server.nextOutcome();
  TestCert renewed = rotated.issueSvid(kBootstrapId);
  {
    std::lock_guard lock(mutex);
    current = snapshotOf(renewed, bothRoots);
  }
  REQUIRE(dial(profile, server).ok);
  TlsOutcome second = server.nextOutcome();

  // then the second connection presents the new SVID.
  CHECK(first.peerFingerprint == certificateFingerprint(pki.bootstrap.cert()));
  CHECK(second.peerFingerprint == certificateFingerprint(renewed.cert()));
}

TEST_CASE("peer policy describes its roles", "[spiffe][tls]") {
  PeerPolicy keeperCallers(
      {RolePolicy(Role::kBootstrap, {"td"}), RolePolicy(Role::kNexus, {"td"})});
  CHECK(keeperCallers.describe() ==
        "a bootstrap ID (spiffe://td/spike/bootstrap[/...]) or a nexus ID "
        "(spiffe://td/spike/nexus[/...])");
  CHECK(PeerPolicy::anyId().describe() == "any SPIFFE ID");
  CHECK(PeerPolicy::anyId().accepts(SpiffeId{"x.org", "/y"}));
}

}  // namespace spike_bootstrap::spiffe
