// FakeWorkloadApi: a synchronous gRPC server whose FetchX509SVID handler
// streams scripted updates until the client leaves or the test ends it.
#include "support/workload_api/fake_workload_api.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <openssl/x509v3.h>

#include "workload.grpc.pb.h"

namespace spike_bootstrap::testing {
namespace {

// How often a waiting stream checks whether its client has gone.
constexpr auto kCancelPollInterval = std::chrono::milliseconds(20);

std::string toString(const Der& der) { return std::string(der.begin(), der.end()); }

X509SVIDResponse toResponse(const FakeX509Update& update) {
  X509SVIDResponse response;
  for (const FakeSvid& svid : update.svids) {
    X509SVID* out = response.add_svids();
    out->set_spiffe_id(svid.spiffeId);
    out->set_x509_svid(toString(svid.chainDer));
    out->set_x509_svid_key(toString(svid.keyDer));
    out->set_bundle(toString(svid.bundleDer));
    out->set_hint(svid.hint);
  }
  for (const auto& [trustDomain, der] : update.federatedBundles) {
    (*response.mutable_federated_bundles())[trustDomain] = toString(der);
  }
  return response;
}

bool hasSecurityHeader(const grpc::ServerContext& context) {
  auto [first, last] = context.client_metadata().equal_range("workload.spiffe.io");
  for (auto it = first; it != last; ++it) {
    if (it->second == "true") {
      return true;
    }
  }
  return false;
}

}  // namespace

FakeSvid FakeSvid::of(const TestCert& cert, Der bundle) {
  std::string id;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.cert(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI && id.empty()) {
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      id.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  GENERAL_NAMES_free(names);
  return FakeSvid{id, cert.chainDer(), cert.keyDer(), std::move(bundle), ""};
}

FakeSvid FakeSvid::of(const TestCert& cert, const TestCa& ca) { return of(cert, ca.bundleDer()); }

class FakeWorkloadApi::Service final : public SpiffeWorkloadAPI::Service {
 public:
  explicit Service(std::string socketPath) : socketPath_(std::move(socketPath)) {}

  ~Service() override {
    {
      std::lock_guard lock(mutex_);
      destroying_ = true;
    }
    changed_.notify_all();
    if (starter_.joinable()) {
      starter_.join();
    }
    shutdown();
  }

  grpc::Status FetchX509SVID(grpc::ServerContext* context, const X509SVIDRequest* /*request*/,
                             grpc::ServerWriter<X509SVIDResponse>* writer) override {
    std::unique_lock lock(mutex_);
    ++stats_.calls;
    changed_.notify_all();
    if (!hasSecurityHeader(*context)) {
      ++stats_.callsWithoutHeader;
      if (requireHeader_) {
        // A SPIRE agent rejects such calls with InvalidArgument too.
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "security header missing from request");
      }
    }
    if (!failures_.empty()) {
      grpc::Status failure = failures_.front();
      failures_.pop_front();
      return failure;
    }

    ++stats_.openStreams;
    grpc::Status ended = stream(lock, *context, *writer);
    --stats_.openStreams;
    return ended;
  }

  void start() {
    std::lock_guard lock(mutex_);
    if (server_) {
      return;
    }
    stopping_ = false;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socketPath_, grpc::InsecureServerCredentials());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (!server_) {
      throw std::runtime_error("fake Workload API could not listen on " + socketPath_);
    }
  }

  void startAfter(std::chrono::milliseconds delay) {
    starter_ = std::thread([this, delay] {
      std::unique_lock lock(mutex_);
      if (changed_.wait_for(lock, delay, [this] { return destroying_; })) {
        return;
      }
      lock.unlock();
      start();
    });
  }

  void shutdown() {
    std::unique_ptr<grpc::Server> server;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      server = std::move(server_);
    }
    changed_.notify_all();
    if (server) {
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      server->Wait();
    }
    ::unlink(socketPath_.c_str());
  }

  void setUpdate(FakeX509Update update) {
    {
      std::lock_guard lock(mutex_);
      update_ = std::move(update);
      ++updateVersion_;
    }
    changed_.notify_all();
  }

  void failNextCalls(int count, grpc::Status status) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) {
      failures_.push_back(status);
    }
  }

  void endStreams() {
    {
      std::lock_guard lock(mutex_);
      ++endGeneration_;
    }
    changed_.notify_all();
  }

  void setRequireHeader(bool require) {
    std::lock_guard lock(mutex_);
    requireHeader_ = require;
  }

  FakeWorkloadApiStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  bool waitForCalls(int count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return stats_.calls >= count; });
  }

  const std::string& socketPath() const { return socketPath_; }

 private:
  // Writes the current update, then each new one, until the client leaves,
  // endStreams() or shutdown(). Called and returns with lock held.
  grpc::Status stream(std::unique_lock<std::mutex>& lock, grpc::ServerContext& context,
                      grpc::ServerWriter<X509SVIDResponse>& writer) {
    const std::uint64_t endGeneration = endGeneration_;
    std::uint64_t sentVersion = 0;
    for (;;) {
      changed_.wait_for(lock, kCancelPollInterval, [&] {
        return stopping_ || endGeneration_ != endGeneration ||
               (update_ && updateVersion_ != sentVersion);
      });
      if (stopping_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "agent is shutting down");
      }
      if (endGeneration_ != endGeneration) {
        return grpc::Status::OK;
      }
      if (context.IsCancelled()) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled the stream");
      }
      if (!update_ || updateVersion_ == sentVersion) {
        continue;
      }

      X509SVIDResponse response = toResponse(*update_);
      sentVersion = updateVersion_;
      lock.unlock();
      bool written = writer.Write(response);
      lock.lock();
      if (!written) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "client left the stream");
      }
      ++stats_.updatesSent;
    }
  }

  const std::string socketPath_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::unique_ptr<grpc::Server> server_;
  std::optional<FakeX509Update> update_;
  std::uint64_t updateVersion_ = 0;
  std::uint64_t endGeneration_ = 0;
  std::deque<grpc::Status> failures_;
  bool requireHeader_ = true;
  bool stopping_ = false;
  bool destroying_ = false;
  FakeWorkloadApiStats stats_;
  std::thread starter_;
};

FakeWorkloadApi::FakeWorkloadApi(std::string socketPath)
    : service_(std::make_unique<Service>(std::move(socketPath))) {}

FakeWorkloadApi::~FakeWorkloadApi() = default;

void FakeWorkloadApi::start() { service_->start(); }

void FakeWorkloadApi::startAfter(std::chrono::milliseconds delay) { service_->startAfter(delay); }

void FakeWorkloadApi::shutdown() { service_->shutdown(); }

void FakeWorkloadApi::setUpdate(FakeX509Update update) { service_->setUpdate(std::move(update)); }

void FakeWorkloadApi::denyNextCalls(int count) {
  service_->failNextCalls(count,
                          grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no identity issued"));
}

void FakeWorkloadApi::failNextCalls(int count, int grpcCode, std::string message) {
  service_->failNextCalls(
      count, grpc::Status(static_cast<grpc::StatusCode>(grpcCode), std::move(message)));
}

void FakeWorkloadApi::endStreams() { service_->endStreams(); }

void FakeWorkloadApi::setRequireHeader(bool require) { service_->setRequireHeader(require); }

FakeWorkloadApiStats FakeWorkloadApi::stats() const { return service_->stats(); }

bool FakeWorkloadApi::waitForCalls(int count, std::chrono::milliseconds timeout) const {
  return service_->waitForCalls(count, timeout);
}

const std::string& FakeWorkloadApi::socketPath() const { return service_->socketPath(); }

}  // namespace spike_bootstrap::testing
