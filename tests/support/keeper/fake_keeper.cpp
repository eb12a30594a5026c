// FakeKeeper: request handling, fault injection and the records tests read.
#include "support/keeper/fake_keeper.h"

#include <utility>

#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/spiffe/spiffe_id.h"
#include "spike_bootstrap/spike/wire.h"

namespace spike_bootstrap::testing {
namespace {

// Error bodies carry SPIKE's "err" member; clients only read the status.
constexpr const char* kBadRequestBody = R"({"err":"bad_request"})";
constexpr const char* kUnauthorizedBody = R"({"err":"unauthorized"})";
constexpr const char* kUnavailableBody = R"({"err":"service_unavailable"})";

bool isBootstrapOrNexus(const std::string& callerId, const std::vector<std::string>& trustDomains) {
  auto id = spiffe::parseSpiffeId(callerId);
  if (!id.ok()) {
    return false;
  }
  return spiffe::RolePolicy(spiffe::Role::kBootstrap, trustDomains).accepts(*id) ||
         spiffe::RolePolicy(spiffe::Role::kNexus, trustDomains).accepts(*id);
}

}  // namespace

FakeKeeper::FakeKeeper(const TestCa& ca, FakeKeeperOptions options)
    : options_(std::move(options)),
      spiffeId_(options_.spiffeId.empty() ? "spiffe://" + ca.trustDomain() + "/spike/keeper/" +
                                                std::to_string(options_.id)
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

FakeKeeper::~FakeKeeper() { stop(); }

void FakeKeeper::start() { server_->start(); }

void FakeKeeper::startAfter(std::chrono::milliseconds delay) {
  starter_.schedule(delay, [this] { server_->start(); });
}

void FakeKeeper::stop() {
  starter_.cancel();
  server_->stop();
}

std::string FakeKeeper::url() const { return server_->url(); }

void FakeKeeper::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void FakeKeeper::failNext(int count, KeeperFault fault) {
  std::lock_guard lock(mutex_);
  fault_ = PendingFault{fault, count};
}

void FakeKeeper::failAlways(KeeperFault fault) {
  std::lock_guard lock(mutex_);
  fault_ = PendingFault{fault, -1};
}

void FakeKeeper::clearFaults() {
  std::lock_guard lock(mutex_);
  fault_.reset();
  delay_ = std::chrono::milliseconds(0);
}

ServerReply FakeKeeper::handle(const ReceivedRequest& request) {
  const std::string callerId = callerSpiffeId(request.peerCertificateDer);
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mutex_);
    delay = delay_;
  }

  ServerReply reply;
  if (std::optional<KeeperFault> fault = takeFault()) {
    switch (*fault) {
      case KeeperFault::kUnavailable:
        reply = ServerReply::json(503, kUnavailableBody);
        break;
      case KeeperFault::kClose:
        reply = ServerReply::withMode(ServerReply::Mode::kCloseWithoutReply);
        break;
      case KeeperFault::kHang:
        reply = ServerReply::withMode(ServerReply::Mode::kHang);
        break;
    }
  } else if (request.method != "POST" || request.target != kContributePath) {
    // This fake serves only the contribute route.
    reply = ServerReply::json(400, kBadRequestBody);
  } else {
    reply = handleContribute(request, callerId);
  }

  reply.delay = delay;
  record(request, callerId, reply.mode == ServerReply::Mode::kRespond ? reply.status : 0);
  return reply;
}

ServerReply FakeKeeper::handleContribute(const ReceivedRequest& request,
                                         const std::string& callerId) {
  // A keeper takes shards only from bootstrap and from Nexus, which re-sends
  // them after it recomputed the shares.
  if (!isBootstrapOrNexus(callerId, callerTrustDomains_)) {
    return ServerReply::json(401, kUnauthorizedBody);
  }
  auto shard = spike::decodeContributeBody(request.body);
  if (!shard.ok()) {
    return ServerReply::json(400, kBadRequestBody);
  }

  std::lock_guard lock(mutex_);
  shard_ = std::move(shard).value();
  ++accepted_;
  return ServerReply::json(200, "{}");
}

std::optional<KeeperFault> FakeKeeper::takeFault() {
  std::lock_guard lock(mutex_);
  if (!fault_) {
    return std::nullopt;
  }
  KeeperFault fault = fault_->fault;
  if (fault_->remaining > 0 && --fault_->remaining == 0) {
    fault_.reset();
  }
  return fault;
}

void FakeKeeper::record(const ReceivedRequest& request, const std::string& callerId, int status) {
  std::lock_guard lock(mutex_);
  requests_.push_back(KeeperRequestRecord{callerId, request.method, request.target, status});
  changed_.notify_all();
}

std::optional<crypto::SecretBytes> FakeKeeper::shard() const {
  std::lock_guard lock(mutex_);
  if (!shard_) {
    return std::nullopt;
  }
  return shard_->clone();
}

std::optional<crypto::KeeperShare> FakeKeeper::share() const {
  std::optional<crypto::SecretBytes> value = shard();
  if (!value) {
    return std::nullopt;
  }
  return crypto::KeeperShare{options_.id, std::move(*value)};
}

std::string FakeKeeper::shardFingerprint() const {
  std::optional<crypto::SecretBytes> value = shard();
  if (!value) {
    return "";
  }
  auto hash = crypto::sha256Hex(value->span());
  return hash.ok() ? *hash : "";
}

int FakeKeeper::acceptedCount() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::vector<KeeperRequestRecord> FakeKeeper::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeKeeper::requestCount() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

std::size_t FakeKeeper::connectionCount() const { return server_->connectionCount(); }

std::size_t FakeKeeper::failedHandshakeCount() const {
  std::size_t failed = 0;
  for (const ConnectionRecord& connection : server_->connections()) {
    if (!connection.handshakeSucceeded && !connection.handshakeError.empty()) {
      ++failed;
    }
  }
  return failed;
}

bool FakeKeeper::waitForShard(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return shard_.has_value(); });
}

bool FakeKeeper::waitForRequests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

bool FakeKeeper::waitForHandshakes(std::size_t count, std::chrono::milliseconds timeout) const {
  return server_->waitForConnections(count, timeout);
}

std::vector<std::string> FakeKeeper::serverErrors() const { return server_->errors(); }

}  // namespace spike_bootstrap::testing
