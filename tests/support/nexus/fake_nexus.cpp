// FakeNexus: root key recovery from the fake keepers, probe opening and the
// faults tests ask for.
#include "support/nexus/fake_nexus.h"

#include <utility>

#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/spiffe/spiffe_id.h"
#include "spike_bootstrap/spike/wire.h"

namespace spike_bootstrap::testing {
namespace {

// Error bodies carry SPIKE's "err" member; clients only read the status.
constexpr const char* kBadRequestBody = R"({"err":"bad_request"})";
constexpr const char* kUnauthorizedBody = R"({"err":"unauthorized"})";
constexpr const char* kUnavailableBody = R"({"err":"not_ready"})";
constexpr const char* kInternalBody = R"({"err":"internal"})";

bool isBootstrap(const std::string& callerId, const std::vector<std::string>& trustDomains) {
  auto id = spiffe::parseSpiffeId(callerId);
  return id.ok() && spiffe::RolePolicy(spiffe::Role::kBootstrap, trustDomains).accepts(*id);
}

}  // namespace

FakeNexus::FakeNexus(const TestCa& ca, ShareSource shares, int threshold, FakeNexusOptions options)
    : shares_(std::move(shares)),
      threshold_(threshold),
      options_(std::move(options)),
      spiffeId_(options_.spiffeId.empty() ? "spiffe://" + ca.trustDomain() + "/spike/nexus"
                                          : options_.spiffeId),
      callerTrustDomains_(options_.callerTrustDomains.empty()
                              ? std::vector<std::string>{ca.trustDomain()}
                              : options_.callerTrustDomains) {
  TestHttpsServerOptions serverOptions;
  serverOptions.address = options_.address;
  server_ = std::make_unique<TestHttpsServer>(
      makeSpiffePeerContext(ca, spiffeId_),
      [this](const ReceivedRequest& request) { return handle(request); }, serverOptions);
}

FakeNexus::~FakeNexus() { stop(); }

void FakeNexus::start() { server_->start(); }

void FakeNexus::startAfter(std::chrono::milliseconds delay) {
  starter_.schedule(delay, [this] { server_->start(); });
}

void FakeNexus::stop() {
  starter_.cancel();
  server_->stop();
}

std::string FakeNexus::url() const { return server_->url(); }

void FakeNexus::setBehavior(NexusBehavior behavior) {
  std::lock_guard lock(mutex_);
  behavior_ = behavior;
}

void FakeNexus::unavailableFor(std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  unavailableUntil_ = std::chrono::steady_clock::now() + duration;
}

void FakeNexus::unavailableNext(int count) {
  std::lock_guard lock(mutex_);
  unavailableCount_ = count;
}

void FakeNexus::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

bool FakeNexus::takeUnavailable() {
  std::lock_guard lock(mutex_);
  if (std::chrono::steady_clock::now() < unavailableUntil_) {
    return true;
  }
  if (unavailableCount_ > 0) {
    --unavailableCount_;
    return true;
  }
  return false;
}

ServerReply FakeNexus::handle(const ReceivedRequest& request) {
  VerifyRecord record;
  record.callerId = callerSpiffeId(request.peerCertificateDer);
  record.target = request.target;

  ServerReply reply;
  if (takeUnavailable()) {
    record.reason = "not ready (scripted)";
    reply = ServerReply::json(503, kUnavailableBody);
  } else if (request.method != "POST" || request.target != kVerifyPath) {
    record.reason = "unknown route " + request.method + " " + request.target;
    reply = ServerReply::json(400, kBadRequestBody);
  } else if (!isBootstrap(record.callerId, callerTrustDomains_)) {
    // Only bootstrap may request proof that Nexus has the root key.
    record.reason = "caller is not bootstrap";
    reply = ServerReply::json(401, kUnauthorizedBody);
  } else {
    reply = verify(request, record);
  }
  record.status = reply.status;

  std::lock_guard lock(mutex_);
  reply.delay = delay_;
  if (record.status == 200 && record.reason.empty()) {
    ++verified_;
  }
  requests_.push_back(std::move(record));
  changed_.notify_all();
  return reply;
}

ServerReply FakeNexus::verify(const ReceivedRequest& request, VerifyRecord& record) {
  auto probe = spike::decodeVerifyRequest(request.body);
  if (!probe.ok()) {
    record.reason = "bad body: " + probe.status().message();
    return ServerReply::json(400, kBadRequestBody);
  }

  // Nexus cannot open a probe before it has rebuilt the root key from the keepers.
  std::vector<crypto::KeeperShare> shares = shares_();
  if (static_cast<int>(shares.size()) < threshold_) {
    record.reason =
        "only " + std::to_string(shares.size()) + " of " + std::to_string(threshold_) + " shares";
    return ServerReply::json(503, kUnavailableBody);
  }
  auto rootKey = crypto::recoverRootKey(shares, threshold_);
  if (!rootKey.ok()) {
    record.reason = "recovery failed: " + rootKey.status().message();
    return ServerReply::json(500, kInternalBody);
  }

  NexusBehavior behavior;
  {
    std::lock_guard lock(mutex_);
    behavior = behavior_;
  }
  if (behavior == NexusBehavior::kServerError) {
    record.reason = "server error (scripted)";
    return ServerReply::json(500, kInternalBody);
  }

  auto plaintext = crypto::openProbe(*rootKey, probe->nonce, probe->ciphertext);
  if (!plaintext.ok()) {
    record.reason = "probe did not open: " + plaintext.status().message();
    return ServerReply::json(500, kInternalBody);
  }
  auto hash = crypto::sha256Hex(plaintext->span());
  if (behavior == NexusBehavior::kWrongHash) {
    // The hash of the ciphertext: well-formed, but not the plaintext's.
    hash = crypto::sha256Hex(probe->ciphertext);
    record.reason = "wrong hash (scripted)";
  }
  if (!hash.ok()) {
    record.reason = "hash failed: " + hash.status().message();
    return ServerReply::json(500, kInternalBody);
  }
  record.hash = *hash;
  return ServerReply::json(200, spike::encodeVerifyResponse(*hash));
}

std::vector<VerifyRecord> FakeNexus::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeNexus::requestCount() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

int FakeNexus::verifiedCount() const {
  std::lock_guard lock(mutex_);
  return verified_;
}

bool FakeNexus::waitForVerified(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return verified_ > 0; });
}

std::vector<std::string> FakeNexus::serverErrors() const { return server_->errors(); }

}  // namespace spike_bootstrap::testing
