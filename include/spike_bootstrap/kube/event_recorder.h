// EventRecorder: core/v1 Events on the bootstrap pod, so `kubectl describe
// pod` shows how the run ended (completed, skipped, refused, failed).
//
// Events are a courtesy to operators, never a reason to fail a run: a
// forbidden create is logged once as a warning and later events are skipped.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/rfc3339.h"

namespace spike_bootstrap::kube {

// The pod an Event is about, from the downward API (POD_NAME, POD_NAMESPACE).
struct PodReference {
  std::string name;
  std::string namespaceName;
  std::string uid;  // optional; "" leaves involvedObject.uid out
};

enum class EventType { kNormal, kWarning };

// Longer Event messages are cut to this many bytes.
inline constexpr std::size_t kMaxEventMessageBytes = 1024;

// Builds the JSON body of a core/v1 Event about pod, named
// "<pod name>.<hex nanoseconds>" and timestamped now.
std::string eventBody(const PodReference& pod, EventType type, std::string_view reason,
                      std::string_view message, std::string_view component, TimePoint now);

// Use from one io_context thread; api must outlive the recorder.
class EventRecorder {
 public:
  EventRecorder(const ApiClient& api, PodReference pod, std::string component = "spike-bootstrap")
      : api_(api), pod_(std::move(pod)), component_(std::move(component)) {}

  // Creates an Event with reason (UpperCamelCase, such as "BootstrapCompleted")
  // and a one-line message. Tries at most twice. Returns the failure after
  // logging it as a warning; after a 403 Forbidden, logs once and returns OK
  // without calling the API server again.
  boost::asio::awaitable<Status> record(EventType type, std::string reason, std::string message);

  // True once the API server returned 403 to an event create.
  bool forbidden() const { return forbidden_; }

 private:
  const ApiClient& api_;
  PodReference pod_;
  std::string component_;
  bool forbidden_ = false;
  logging::Logger logger_{"kube"};
};

}  // namespace spike_bootstrap::kube
