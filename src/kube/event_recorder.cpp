// EventRecorder: building and posting core/v1 Events about the bootstrap pod.
#include "spike_bootstrap/kube/event_recorder.h"

#include <cstdio>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace spike_bootstrap::kube {
namespace {

namespace asio = boost::asio;
using rapidjson::Value;

Value stringValue(std::string_view text, rapidjson::Document::AllocatorType& allocator) {
  return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

// Cuts text to at most maxBytes without splitting a UTF-8 sequence.
std::string_view truncateUtf8(std::string_view text, std::size_t maxBytes) {
  if (text.size() <= maxBytes) {
    return text;
  }
  std::size_t end = maxBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace

std::string eventBody(const PodReference& pod, EventType type, std::string_view reason,
                      std::string_view message, std::string_view component, TimePoint now) {
  rapidjson::Document document(rapidjson::kObjectType);
  auto& allocator = document.GetAllocator();

  // client-go names events "<object name>.<hex nanoseconds>", unique per pod.
  char suffix[32];
  auto nanoseconds =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanoseconds));
  std::string timestamp = formatRfc3339(now);

  Value metadata(rapidjson::kObjectType);
  metadata.AddMember("name", stringValue(pod.name + suffix, allocator), allocator);
  metadata.AddMember("namespace", stringValue(pod.namespaceName, allocator), allocator);

  Value involved(rapidjson::kObjectType);
  involved.AddMember("apiVersion", "v1", allocator);
  involved.AddMember("kind", "Pod", allocator);
  involved.AddMember("name", stringValue(pod.name, allocator), allocator);
  involved.AddMember("namespace", stringValue(pod.namespaceName, allocator), allocator);
  if (!pod.uid.empty()) {
    involved.AddMember("uid", stringValue(pod.uid, allocator), allocator);
  }

  Value source(rapidjson::kObjectType);
  source.AddMember("component", stringValue(component, allocator), allocator);

  document.AddMember("apiVersion", "v1", allocator);
  document.AddMember("kind", "Event", allocator);
  document.AddMember("metadata", std::move(metadata), allocator);
  document.AddMember("involvedObject", std::move(involved), allocator);
  document.AddMember("reason", stringValue(reason, allocator), allocator);
  document.AddMember(
      "message", stringValue(truncateUtf8(message, kMaxEventMessageBytes), allocator), allocator);
  document.AddMember("type",
                     stringValue(type == EventType::kWarning ? "Warning" : "Normal", allocator),
                     allocator);
  document.AddMember("source", std::move(source), allocator);
  document.AddMember("firstTimestamp", stringValue(timestamp, allocator), allocator);
  document.AddMember("lastTimestamp", stringValue(timestamp, allocator), allocator);
  document.AddMember("count", 1, allocator);
  document.AddMember("reportingComponent", stringValue(component, allocator), allocator);
  document.AddMember("reportingInstance", stringValue(pod.name, allocator), allocator);

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

asio::awaitable<Status> EventRecorder::record(EventType type, std::string reason,
                                              std::string message) {
  if (forbidden_) {
    co_return okStatus();
  }

  ApiRequest request;
  request.method = "POST";
  request.path = "/api/v1/namespaces/" + pod_.namespaceName + "/events";
  request.body =
      eventBody(pod_, type, reason, message, component_, std::chrono::system_clock::now());
  request.verb = "create";
  request.resource = "events";
  request.namespaceName = pod_.namespaceName;
  request.maxAttempts = 2;

  ApiResult<std::string> result = co_await api_.call(std::move(request));
  if (result.ok()) {
    co_return okStatus();
  }
  if (result.error().forbidden()) {
    forbidden_ = true;
    logger_.warn("not allowed to create Events; continuing without them",
                 {{"pod", pod_.name}, {"error", result.error().status.message()}});
    co_return okStatus();
  }
  logger_.warn("could not create an Event on the pod",
               {{"pod", pod_.name}, {"reason", reason}, {"error", result.status().toString()}});
  co_return result.status();
}

}  // namespace spike_bootstrap::kube
