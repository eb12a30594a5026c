// X509Source: the FetchX509SVID stream on its own thread, and the hand-over
// of its first result to the io_context.
#include "spike_bootstrap/spiffe/x509_source.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/spiffe/socket_wait.h"
#include "workload.grpc.pb.h"

namespace spike_bootstrap::spiffe {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

const logging::Logger& logger() {
  static const logging::Logger instance("spiffe");
  return instance;
}

std::string_view grpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Cancelled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Unknown";
  }
}

// Maps a gRPC code to ours. Codes we have no name for become Unavailable, so
// they are retried like any other failure of the agent.
StatusCode fromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return StatusCode::kCancelled;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return StatusCode::kInvalidArgument;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return StatusCode::kDeadlineExceeded;
    case grpc::StatusCode::PERMISSION_DENIED:
      return StatusCode::kPermissionDenied;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return StatusCode::kResourceExhausted;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return StatusCode::kFailedPrecondition;
    case grpc::StatusCode::UNAUTHENTICATED:
      return StatusCode::kUnauthenticated;
    case grpc::StatusCode::INTERNAL:
      return StatusCode::kInternal;
    default:
      return StatusCode::kUnavailable;
  }
}

// Wipes the private keys of every SVID in the response. The parsed message
// is the only copy of the key bytes that we can reach.
// NOTE: gRPC's receive buffers also held the serialized response. They are
// freed by gRPC without being wiped, and no public API reaches them.
void wipeKeys(X509SVIDResponse& response) {
  for (X509SVID& svid : *response.mutable_svids()) {
    std::string* key = svid.mutable_x509_svid_key();
    OPENSSL_cleanse(key->data(), key->size());
    key->clear();
  }
}

// Parses the default SVID and the bundles of one response, and wipes the key
// bytes in the response.
Result<std::shared_ptr<const X509Snapshot>> snapshotFromResponse(X509SVIDResponse& response) {
  if (response.svids_size() == 0) {
    return Status(StatusCode::kInvalidArgument, "the update contains no SVID");
  }
  const X509SVID& first = response.svids(0);
  SvidMaterial material;
  material.spiffeId = first.spiffe_id();
  material.chainDer.assign(first.x509_svid().begin(), first.x509_svid().end());
  const std::string& key = first.x509_svid_key();
  material.keyDer =
      crypto::SecretBytes::copyOf({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});
  material.bundleDer.assign(first.bundle().begin(), first.bundle().end());
  material.hint = first.hint();
  wipeKeys(response);

  // NOTE: the crl field is not used, so a revoked peer certificate is
  // accepted until it expires.
  std::map<std::string, std::vector<std::uint8_t>> federated;
  for (const auto& [trustDomain, der] : response.federated_bundles()) {
    federated.emplace(trustDomain, std::vector<std::uint8_t>(der.begin(), der.end()));
  }
  return makeX509Snapshot(material, federated);
}

}  // namespace

class X509Source::Stream {
 public:
  explicit Stream(X509SourceOptions options)
      : options_(std::move(options)), target_("unix:" + options_.socketPath) {}
  ~Stream() { stop(); }

  asio::awaitable<Status> start();
  void stop();

  std::shared_ptr<const X509Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  void run();
  Status openStreamAndRead(std::chrono::milliseconds& delay);
  bool handleResponse(X509SVIDResponse& response);
  void publish(std::shared_ptr<const X509Snapshot> snapshot);
  void finishFirst(Status status);
  void reportFailure(const Status& status, std::chrono::milliseconds delay);
  bool sleepUnlessStopped(std::chrono::milliseconds delay);

  const X509SourceOptions options_;
  const std::string target_;

  mutable std::mutex mutex_;
  std::condition_variable stopRequested_;
  bool started_ = false;
  bool stopping_ = false;
  grpc::ClientContext* activeCall_ = nullptr;
  std::shared_ptr<const X509Snapshot> current_;
  std::optional<Status> first_;
  std::function<void()> notifyFirst_;
  std::string lastError_ = "the agent sent no update";
  // Only the stream thread uses this: true while reconnects keep failing.
  bool failing_ = false;

  std::mutex joinMutex_;
  std::thread thread_;
};

asio::awaitable<Status> X509Source::Stream::start() {
  const Clock::time_point started = Clock::now();
  // A zero or negative timeout means no limit.
  const Clock::time_point deadline =
      options_.timeout > std::chrono::nanoseconds::zero()
          ? started + std::chrono::duration_cast<Clock::duration>(options_.timeout)
          : Clock::time_point::max();
  {
    std::lock_guard lock(mutex_);
    if (started_) {
      co_return Status(StatusCode::kFailedPrecondition, "X509Source::start() called twice");
    }
    started_ = true;
  }

  // Cancellation comes back as a Cancelled status, never as an exception.
  co_await asio::this_coro::throw_if_cancelled(false);
  if (Status socket = co_await waitForSocket(options_.socketPath, deadline); !socket.ok()) {
    stop();
    co_return socket;
  }
  // A cancellation that arrived just as the socket answered has been emitted
  // already, so the timer wait below would not see it.
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
    stop();
    co_return Status(StatusCode::kCancelled, "wait for the first X.509-SVID cancelled");
  }

  // The stream thread wakes this coroutine by cancelling the timer from a
  // handler posted to our executor. That is race-free as long as the
  // io_context runs on one thread, as spike-bootstrap's does. The handler
  // holds only a weak reference, because the timer must die on this thread
  // before the io_context does.
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor, deadline);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      co_return Status(StatusCode::kCancelled, "Workload API source stopped before it started");
    }
    notifyFirst_ = [executor, weakTimer = std::weak_ptr(timer)] {
      asio::post(executor, [weakTimer] {
        if (auto timer = weakTimer.lock()) {
          timer->cancel();
        }
      });
    };
  }
  {
    std::lock_guard lock(joinMutex_);
    thread_ = std::thread([this] { run(); });
  }
  auto [waitError] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));

  std::optional<Status> first;
  std::string lastError;
  {
    std::lock_guard lock(mutex_);
    first = first_;
    lastError = lastError_;
    notifyFirst_ = nullptr;
  }
  if (first && first->ok()) {
    co_return *first;
  }
  stop();
  if (first) {
    co_return *first;
  }
  if (waitError) {
    co_return Status(StatusCode::kCancelled, "wait for the first X.509-SVID cancelled");
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  co_return Status(StatusCode::kDeadlineExceeded,
                   "no valid X.509-SVID from the Workload API at " + options_.socketPath +
                       " within " + std::to_string(waited.count()) +
                       " ms (last error: " + lastError +
                       "); check the SPIRE registration entry of this workload and the agent's "
                       "log");
}

void X509Source::Stream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (activeCall_ != nullptr) {
      activeCall_->TryCancel();
    }
  }
  stopRequested_.notify_all();
  std::lock_guard lock(joinMutex_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void X509Source::Stream::run() {
  std::chrono::milliseconds delay = options_.initialRetryDelay;
  for (;;) {
    Status ended = openStreamAndRead(delay);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
      if (current_ == nullptr) {
        lastError_ = ended.toString();
      }
    }
    // InvalidArgument means the agent rejects our request itself, so before
    // the first SVID no retry can help.
    if (ended.code() == StatusCode::kInvalidArgument && current() == nullptr) {
      finishFirst(ended.withContext("Workload API rejected the request"));
      return;
    }
    reportFailure(ended, delay);
    if (!sleepUnlessStopped(delay)) {
      break;
    }
    delay = std::min(delay * 2, options_.maxRetryDelay);
  }
  finishFirst(Status(StatusCode::kCancelled, "Workload API source stopped"));
}

Status X509Source::Stream::openStreamAndRead(std::chrono::milliseconds& delay) {
  // A fresh channel per attempt, so gRPC's own reconnect backoff (up to
  // minutes) never delays our retries.
  auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
  auto stub = SpiffeWorkloadAPI::NewStub(channel);
  grpc::ClientContext context;
  // The Workload API specification requires this header on every call, and a
  // SPIRE agent rejects calls without it with InvalidArgument.
  context.AddMetadata("workload.spiffe.io", "true");
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return Status(StatusCode::kCancelled, "Workload API source stopped");
    }
    activeCall_ = &context;
  }

  auto reader = stub->FetchX509SVID(&context, X509SVIDRequest());
  X509SVIDResponse response;
  while (reader->Read(&response)) {
    if (handleResponse(response)) {
      delay = options_.initialRetryDelay;
    }
  }
  grpc::Status status = reader->Finish();
  {
    std::lock_guard lock(mutex_);
    activeCall_ = nullptr;
  }

  if (status.ok()) {
    return Status(StatusCode::kUnavailable, "FetchX509SVID on " + target_ + ": stream ended");
  }
  const StatusCode code = fromGrpc(status.error_code());
  std::string message = "FetchX509SVID on " + target_ + ": " + status.error_message();
  // Keep the gRPC code where our code has another name, such as Unimplemented.
  if (grpcCodeName(status.error_code()) != statusCodeName(code)) {
    message += " (gRPC code ";
    message += grpcCodeName(status.error_code());
    message += ")";
  }
  return Status(code, std::move(message));
}

// Returns true when the response held a valid SVID, which is now published.
bool X509Source::Stream::handleResponse(X509SVIDResponse& response) {
  auto snapshot = snapshotFromResponse(response);
  if (!snapshot.ok()) {
    logger().warn("skipping an invalid Workload API update, waiting for the next one",
                  {{"socket", options_.socketPath}, {"error", snapshot.status().message()}});
    std::lock_guard lock(mutex_);
    lastError_ = "invalid update: " + snapshot.status().message();
    return false;
  }
  publish(std::move(snapshot).value());
  return true;
}

void X509Source::Stream::publish(std::shared_ptr<const X509Snapshot> snapshot) {
  std::shared_ptr<const X509Snapshot> previous;
  {
    std::lock_guard lock(mutex_);
    previous = std::exchange(current_, snapshot);
  }

  const X509Svid& svid = snapshot->svid;
  std::string fingerprint = certificateFingerprint(svid.leaf());
  logging::Fields fields = {{"spiffe_id", svid.id.toString()},
                            {"not_after", certificateNotAfter(svid.leaf())},
                            {"sha256", fingerprint},
                            {"bundle_certs", snapshot->bundle.authorities.size()},
                            {"federated_bundles", snapshot->federatedBundles.size()}};
  if (previous == nullptr) {
    logger().info("received X.509-SVID", fields);
  } else if (certificateFingerprint(previous->svid.leaf()) != fingerprint) {
    logger().info("X.509-SVID rotated", fields);
  } else {
    logger().debug("Workload API update, SVID unchanged", fields);
  }
  if (failing_) {
    logger().info("Workload API stream restored", {{"socket", options_.socketPath}});
    failing_ = false;
  }

  if (options_.onUpdate) {
    options_.onUpdate(snapshot);
  }
  finishFirst(okStatus());
}

void X509Source::Stream::finishFirst(Status status) {
  std::lock_guard lock(mutex_);
  if (first_) {
    return;
  }
  first_ = std::move(status);
  // Posting under the lock is what keeps it safe: start() clears
  // notifyFirst_ under the same lock before it returns, so the io_context is
  // still alive whenever a post happens.
  if (notifyFirst_) {
    notifyFirst_();
  }
}

// Logs a failed stream: at debug level before the first SVID (start()
// reports the outcome), and once per outage after it, since the last
// snapshot keeps being used meanwhile.
void X509Source::Stream::reportFailure(const Status& status, std::chrono::milliseconds delay) {
  logging::Fields fields = {{"socket", options_.socketPath},
                            {"error", status.toString()},
                            {"retry_in_ms", delay.count()}};
  if (current() == nullptr || failing_) {
    logger().debug("Workload API stream failed, retrying", fields);
  } else {
    logger().warn("Workload API stream failed; keeping the current SVID and reconnecting", fields);
  }
  failing_ = current() != nullptr;
}

bool X509Source::Stream::sleepUnlessStopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !stopRequested_.wait_for(lock, delay, [this] { return stopping_; });
}

X509Source::X509Source(X509SourceOptions options)
    : stream_(std::make_unique<Stream>(std::move(options))) {}

X509Source::~X509Source() = default;

asio::awaitable<Status> X509Source::start() { co_return co_await stream_->start(); }

std::shared_ptr<const X509Snapshot> X509Source::current() const { return stream_->current(); }

SnapshotProvider X509Source::provider() const {
  return [stream = stream_.get()] { return stream->current(); };
}

void X509Source::stop() { stream_->stop(); }

}  // namespace spike_bootstrap::spiffe
