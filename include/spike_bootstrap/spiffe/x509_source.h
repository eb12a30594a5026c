// X509Source: our X.509-SVID and trust bundles, kept current by the SPIFFE
// Workload API.
//
// start() waits for the agent's socket, opens the FetchX509SVID stream and
// completes once the first valid snapshot is there. The stream then stays
// open on a thread of its own for the whole run. Each update the agent pushes
// (a rotated SVID, new bundles) replaces the snapshot that current() returns,
// and a broken stream is reopened in the background while current() keeps
// returning the last valid snapshot. gRPC stays inside the implementation.
//
// Thread rule: start() runs on one io_context thread; current() and stop()
// may be called from any thread. The source must outlive start().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/spiffe/svid.h"

namespace spike_bootstrap::spiffe {

struct X509SourceOptions {
  // Absolute path of the agent's Unix socket (see socketPathFromEndpoint).
  std::string socketPath;
  // SPIKE_SPIFFE_SOURCE_TIMEOUT: one budget for the socket wait and the
  // first valid SVID together.
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  // Delay before reopening a failed stream; doubles up to maxRetryDelay and
  // starts over after every valid update.
  std::chrono::milliseconds initialRetryDelay{100};
  std::chrono::milliseconds maxRetryDelay{2000};
  // Runs on the stream thread after each new snapshot is published. Keep it
  // short: the next update waits for it.
  std::function<void(const std::shared_ptr<const X509Snapshot>&)> onUpdate;
};

class X509Source {
 public:
  explicit X509Source(X509SourceOptions options);
  // Stops the stream, as stop() does.
  ~X509Source();
  X509Source(const X509Source&) = delete;
  X509Source& operator=(const X509Source&) = delete;

  // Waits for the socket, then for the first valid snapshot, within
  // options.timeout. Until then PermissionDenied ("no identity issued"),
  // Unavailable, ended streams and SVIDs that break the X.509-SVID rules are
  // retried. Returns:
  //   OK                 a snapshot is there and current() returns it
  //   DeadlineExceeded   timeout passed; the message names the socket and
  //                      the last error seen
  //   InvalidArgument    the agent rejected the request (final)
  //   Cancelled          stop() ran or the caller's coroutine was cancelled
  // On failure the stream is stopped. Call start() once. It turns off
  // throw_if_cancelled for the calling coroutine thread, so cancellation
  // comes back as a status there too.
  boost::asio::awaitable<Status> start();

  // Returns the newest valid snapshot, or nullptr before the first one.
  std::shared_ptr<const X509Snapshot> current() const;

  // Returns a provider bound to this source; the source must outlive it.
  SnapshotProvider provider() const;

  // Cancels the stream and joins its thread; returns within milliseconds.
  // Safe to call more than once and from any thread.
  void stop();

 private:
  class Stream;
  std::unique_ptr<Stream> stream_;
};

}  // namespace spike_bootstrap::spiffe
