// Text and JSON renderings of the state record for `spike-bootstrap status`.
#include "spike_bootstrap/app/status_report.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spike_bootstrap/kube/rfc3339.h"

namespace spike_bootstrap::app {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

std::optional<long long> leaseAgeSeconds(const kube::StateRecord& record,
                                         std::chrono::system_clock::time_point now) {
  std::optional<kube::TimePoint> last = record.renewedAt ? record.renewedAt : record.claimedAt;
  if (!last) {
    return std::nullopt;
  }
  return duration_cast<seconds>(now - *last).count();
}

std::string optionalTime(const std::optional<kube::TimePoint>& time) {
  return time ? kube::formatRfc3339(*time) : "";
}

}  // namespace

std::string formatStatusText(const std::string& configMapName, const std::string& namespaceName,
                             const std::optional<kube::StateRecord>& record,
                             std::chrono::system_clock::time_point now) {
  std::string out = fmt::format("configmap: {}/{}\n", namespaceName, configMapName);
  if (!record) {
    out += "exists: no (no bootstrap has claimed or completed this deployment)\n";
    return out;
  }
  out += fmt::format("completed: {}\n", record->completed ? "yes" : "no");
  if (record->completed) {
    out += fmt::format("completed-at: {}\ncompleted-by-pod: {}\n", record->completedAt,
                       record->completedByPod);
  }
  out += fmt::format("phase: {}\n", kube::phaseName(record->phase));
  if (record->hasAttempt()) {
    out += fmt::format("attempt-id: {}\nholder: {}\n", record->attemptId, record->holder);
    out += fmt::format("claimed-at: {}\nrenewed-at: {}\n", optionalTime(record->claimedAt),
                       optionalTime(record->renewedAt));
    if (auto age = leaseAgeSeconds(*record, now)) {
      out += fmt::format("lease-age: {}s\n", *age);
    }
    out += fmt::format("shares-possibly-delivered: {} ({})\n",
                       record->sharesPossiblyDelivered.size(),
                       kube::formatKeeperIds(record->sharesPossiblyDelivered));
    out += fmt::format("keepers-acknowledged: {} ({})\n", record->keepersAcknowledged.size(),
                       kube::formatKeeperIds(record->keepersAcknowledged));
  }
  if (!record->lastError.empty()) {
    out += fmt::format("last-error: {}\n", record->lastError);
  }
  return out;
}

std::string formatStatusJson(const std::string& configMapName, const std::string& namespaceName,
                             const std::optional<kube::StateRecord>& record,
                             std::chrono::system_clock::time_point now) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  auto writeString = [&](const char* key, const std::string& value) {
    writer.Key(key);
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto writeIds = [&](const char* key, const std::set<int>& ids) {
    writer.Key(key);
    writer.StartArray();
    for (int id : ids) {
      writer.Int(id);
    }
    writer.EndArray();
  };

  writer.StartObject();
  writeString("configmap", configMapName);
  writeString("namespace", namespaceName);
  writer.Key("exists");
  writer.Bool(record.has_value());
  if (record) {
    writer.Key("completed");
    writer.Bool(record->completed);
    writeString("completed_at", record->completedAt);
    writeString("completed_by_pod", record->completedByPod);
    writeString("phase", std::string(kube::phaseName(record->phase)));
    writeString("attempt_id", record->attemptId);
    writeString("holder", record->holder);
    writeString("claimed_at", optionalTime(record->claimedAt));
    writeString("renewed_at", optionalTime(record->renewedAt));
    writer.Key("lease_age_seconds");
    if (auto age = leaseAgeSeconds(*record, now)) {
      writer.Int64(*age);
    } else {
      writer.Null();
    }
    writeIds("shares_possibly_delivered", record->sharesPossiblyDelivered);
    writeIds("keepers_acknowledged", record->keepersAcknowledged);
    writeString("last_error", record->lastError);
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace spike_bootstrap::app
