// Strict parsing and key-by-key writing of the bootstrap state record, and the
// deployment fingerprint.
#include "spike_bootstrap/kube/state_record.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <openssl/evp.h>

namespace spike_bootstrap::kube {
namespace {

// Keys that describe an attempt; none may be present without phase.
constexpr std::array<std::string_view, 7> kClaimKeys = {
    kAttemptIdKey,           kHolderKey,        kClaimedAtKey,
    kRenewedAtKey,           kLeaseDurationKey, kSharesPossiblyDeliveredKey,
    kKeepersAcknowledgedKey,
};

constexpr std::array<std::string_view, 4> kDeploymentInputKeys = {
    kDeploymentKeeperPeersKey, kDeploymentSharesKey, kDeploymentThresholdKey,
    kDeploymentTrustRootsKey};

constexpr std::array<Phase, 5> kPhases = {Phase::kClaimed, Phase::kDelivering, Phase::kVerifying,
                                          Phase::kCompleted, Phase::kFailed};

Status corrupt(std::string_view key, std::string_view value, std::string_view expected) {
  std::string message = "corrupt state record: key " + std::string(key) + " has value \"" +
                        std::string(value) + "\", expected " + std::string(expected);
  return Status(StatusCode::kDataLoss, std::move(message));
}

const std::string* find(const ConfigMapData& data, std::string_view key) {
  auto entry = data.find(key);
  return entry == data.end() ? nullptr : &entry->second;
}

std::string joinList(const std::vector<std::string>& items, char separator = ',') {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) {
      text += separator;
    }
    text += item;
  }
  return text;
}

std::vector<std::string> splitList(std::string_view text, char separator = ',') {
  std::vector<std::string> items;
  if (text.empty()) {
    return items;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    items.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) {
      return items;
    }
    start = end + 1;
  }
}

// Parses a positive decimal integer with no sign, spaces or leading zeros.
std::optional<int> parsePositive(std::string_view text) {
  int value = 0;
  if (text.empty() || text.size() > 9 || text[0] < '1' || text[0] > '9') {
    return std::nullopt;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

Result<std::set<int>> parseKeeperIds(std::string_view key, std::string_view text) {
  std::set<int> ids;
  for (const auto& item : splitList(text)) {
    std::optional<int> id = parsePositive(item);
    if (!id || !ids.insert(*id).second) {
      return corrupt(key, text, "distinct keeper IDs separated by commas, such as \"1,3\"");
    }
  }
  return ids;
}

Result<std::optional<TimePoint>> parseOptionalTime(const ConfigMapData& data,
                                                   std::string_view key) {
  const std::string* text = find(data, key);
  if (text == nullptr) {
    return std::optional<TimePoint>();
  }
  Result<TimePoint> time = parseRfc3339(*text);
  if (!time.ok()) {
    return corrupt(key, *text, "an RFC 3339 time such as 2024-05-01T12:34:56Z");
  }
  return std::optional<TimePoint>(*time);
}

std::string formatTrustRoots(const config::TrustRoots& roots) {
  return "bootstrap=" + joinList(roots.bootstrap) + ";keeper=" + joinList(roots.keeper) +
         ";nexus=" + joinList(roots.nexus);
}

Result<config::TrustRoots> parseTrustRoots(std::string_view text) {
  std::vector<std::string> sections = splitList(text, ';');
  std::array<std::string_view, 3> names = {"bootstrap=", "keeper=", "nexus="};
  if (sections.size() != names.size()) {
    return corrupt(kDeploymentTrustRootsKey, text, "bootstrap=<domains>;keeper=<...>;nexus=<...>");
  }
  std::array<std::vector<std::string>, 3> domains;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!sections[i].starts_with(names[i])) {
      return corrupt(kDeploymentTrustRootsKey, text,
                     "bootstrap=<domains>;keeper=<...>;nexus=<...>");
    }
    domains[i] = splitList(std::string_view(sections[i]).substr(names[i].size()));
    std::sort(domains[i].begin(), domains[i].end());
  }
  return config::TrustRoots{domains[0], domains[1], domains[2]};
}

Result<std::optional<Deployment>> parseDeployment(const ConfigMapData& data) {
  int present = 0;
  for (std::string_view key : kDeploymentInputKeys) {
    present += find(data, key) != nullptr ? 1 : 0;
  }
  if (present == 0) {
    return std::optional<Deployment>();
  }
  for (std::string_view key : kDeploymentInputKeys) {
    if (find(data, key) == nullptr) {
      return Status(StatusCode::kDataLoss, "corrupt state record: key " + std::string(key) +
                                               " is missing while other deployment keys are set");
    }
  }

  Deployment deployment;
  deployment.keeperPeers = splitList(*find(data, kDeploymentKeeperPeersKey));
  const std::string& shares = *find(data, kDeploymentSharesKey);
  const std::string& threshold = *find(data, kDeploymentThresholdKey);
  std::optional<int> sharesValue = parsePositive(shares);
  std::optional<int> thresholdValue = parsePositive(threshold);
  if (!sharesValue) {
    return corrupt(kDeploymentSharesKey, shares, "a positive integer");
  }
  if (!thresholdValue) {
    return corrupt(kDeploymentThresholdKey, threshold, "a positive integer");
  }
  deployment.shares = *sharesValue;
  deployment.threshold = *thresholdValue;
  Result<config::TrustRoots> roots = parseTrustRoots(*find(data, kDeploymentTrustRootsKey));
  if (!roots.ok()) {
    return roots.status();
  }
  deployment.trustRoots = std::move(*roots);
  return std::optional<Deployment>(std::move(deployment));
}

// Parses the attempt keys into record; record.phase is already set.
Status parseAttempt(const ConfigMapData& data, StateRecord& record) {
  const std::string* attemptId = find(data, kAttemptIdKey);
  const std::string* holder = find(data, kHolderKey);
  if (attemptId == nullptr || attemptId->empty()) {
    return corrupt(kAttemptIdKey, attemptId ? *attemptId : "", "an attempt ID while phase is set");
  }
  if (holder == nullptr || holder->empty()) {
    return corrupt(kHolderKey, holder ? *holder : "", "the holder's pod name while phase is set");
  }
  record.attemptId = *attemptId;
  record.holder = *holder;

  auto claimedAt = parseOptionalTime(data, kClaimedAtKey);
  auto renewedAt = parseOptionalTime(data, kRenewedAtKey);
  if (!claimedAt.ok()) {
    return claimedAt.status();
  }
  if (!renewedAt.ok()) {
    return renewedAt.status();
  }
  record.claimedAt = *claimedAt;
  record.renewedAt = *renewedAt;

  if (const std::string* lease = find(data, kLeaseDurationKey)) {
    Result<config::Duration> duration = config::parseGoDuration(*lease);
    if (!duration.ok() || duration->count() <= 0) {
      return corrupt(kLeaseDurationKey, *lease, "a positive Go duration such as 15s");
    }
    record.leaseDuration = *duration;
  }

  for (auto [key, ids] : {std::pair{kSharesPossiblyDeliveredKey, &record.sharesPossiblyDelivered},
                          std::pair{kKeepersAcknowledgedKey, &record.keepersAcknowledged}}) {
    if (const std::string* text = find(data, key)) {
      Result<std::set<int>> parsed = parseKeeperIds(key, *text);
      if (!parsed.ok()) {
        return parsed.status();
      }
      *ids = std::move(*parsed);
    }
  }
  return okStatus();
}

Result<Phase> parsePhase(const std::string& text) {
  for (Phase phase : kPhases) {
    if (text == phaseName(phase)) {
      return phase;
    }
  }
  return corrupt(kPhaseKey, text, "claimed, delivering, verifying, completed or failed");
}

// Makes text one line of at most kMaxLastErrorBytes.
std::string oneLine(std::string_view text) {
  std::string line(text.substr(0, kMaxLastErrorBytes));
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return line;
}

// Sets key to value, or removes it when value is empty.
void setOrErase(ConfigMapData& data, std::string_view key, std::string value) {
  if (value.empty()) {
    data.erase(std::string(key));
  } else {
    data.insert_or_assign(std::string(key), std::move(value));
  }
}

// Returns every key the record owns with its value, "" for keys to remove.
std::vector<std::pair<std::string_view, std::string>> recordEntries(const StateRecord& record) {
  auto time = [](const std::optional<TimePoint>& value) {
    return value ? formatRfc3339(*value, true) : std::string();
  };
  std::vector<std::pair<std::string_view, std::string>> entries = {
      {kBootstrapCompletedKey, record.completed ? "true" : ""},
      {kCompletedAtKey, record.completedAt},
      {kCompletedByPodKey, record.completedByPod},
      {kPhaseKey, std::string(phaseName(record.phase))},
      {kLastErrorKey, oneLine(record.lastError)},
  };
  bool attempt = record.hasAttempt();
  entries.emplace_back(kAttemptIdKey, attempt ? record.attemptId : "");
  entries.emplace_back(kHolderKey, attempt ? record.holder : "");
  entries.emplace_back(kClaimedAtKey, attempt ? time(record.claimedAt) : "");
  entries.emplace_back(kRenewedAtKey, attempt ? time(record.renewedAt) : "");
  entries.emplace_back(kLeaseDurationKey, attempt && record.leaseDuration
                                              ? config::formatGoDuration(*record.leaseDuration)
                                              : "");
  entries.emplace_back(kSharesPossiblyDeliveredKey,
                       attempt ? formatKeeperIds(record.sharesPossiblyDelivered) : "");
  entries.emplace_back(kKeepersAcknowledgedKey,
                       attempt ? formatKeeperIds(record.keepersAcknowledged) : "");

  const std::optional<Deployment>& deployment = record.deployment;
  entries.emplace_back(kDeploymentFingerprintKey,
                       deployment ? deployment->fingerprint() : record.deploymentFingerprint);
  entries.emplace_back(kDeploymentKeeperPeersKey,
                       deployment ? joinList(deployment->keeperPeers) : "");
  entries.emplace_back(kDeploymentSharesKey, deployment ? std::to_string(deployment->shares) : "");
  entries.emplace_back(kDeploymentThresholdKey,
                       deployment ? std::to_string(deployment->threshold) : "");
  entries.emplace_back(kDeploymentTrustRootsKey,
                       deployment ? formatTrustRoots(deployment->trustRoots) : "");
  return entries;
}

std::vector<std::string> sorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return items;
}

}  // namespace

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::kNone:
      return "";
    case Phase::kClaimed:
      return "claimed";
    case Phase::kDelivering:
      return "delivering";
    case Phase::kVerifying:
      return "verifying";
    case Phase::kCompleted:
      return "completed";
    case Phase::kFailed:
      return "failed";
  }
  return "";
}

Deployment Deployment::fromConfig(const config::Config& config) {
  Deployment deployment;
  std::vector<config::KeeperPeer> peers = config.keeperPeers;
  std::sort(peers.begin(), peers.end(),
            [](const auto& left, const auto& right) { return left.id < right.id; });
  for (const auto& peer : peers) {
    deployment.keeperPeers.push_back(peer.url);
  }
  deployment.shares = config.shamirShares;
  deployment.threshold = config.shamirThreshold;
  deployment.trustRoots.bootstrap = sorted(config.trustRoots.bootstrap);
  deployment.trustRoots.keeper = sorted(config.trustRoots.keeper);
  deployment.trustRoots.nexus = sorted(config.trustRoots.nexus);
  return deployment;
}

std::string Deployment::fingerprint() const {
  config::TrustRoots roots{sorted(trustRoots.bootstrap), sorted(trustRoots.keeper),
                           sorted(trustRoots.nexus)};
  std::string canonical = "keeper-peers=" + joinList(keeperPeers) +
                          "\nshares=" + std::to_string(shares) +
                          "\nthreshold=" + std::to_string(threshold) +
                          "\ntrust-roots=" + formatTrustRoots(roots) + "\n";

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0x0f];
  }
  return text;
}

bool Deployment::operator==(const Deployment& other) const {
  return diffDeployments(*this, other).empty();
}

std::vector<DeploymentChange> diffDeployments(const Deployment& recorded,
                                              const Deployment& current) {
  std::vector<DeploymentChange> changes;
  auto compare = [&](std::string setting, std::string before, std::string after) {
    if (before != after) {
      changes.push_back({std::move(setting), std::move(before), std::move(after)});
    }
  };
  compare("keeper peers", joinList(recorded.keeperPeers), joinList(current.keeperPeers));
  compare("shares", std::to_string(recorded.shares), std::to_string(current.shares));
  compare("threshold", std::to_string(recorded.threshold), std::to_string(current.threshold));
  compare("bootstrap trust roots", joinList(sorted(recorded.trustRoots.bootstrap)),
          joinList(sorted(current.trustRoots.bootstrap)));
  compare("keeper trust roots", joinList(sorted(recorded.trustRoots.keeper)),
          joinList(sorted(current.trustRoots.keeper)));
  compare("nexus trust roots", joinList(sorted(recorded.trustRoots.nexus)),
          joinList(sorted(current.trustRoots.nexus)));
  return changes;
}

Result<StateRecord> parseStateRecord(const ConfigMapData& data) {
  StateRecord record;
  if (const std::string* completed = find(data, kBootstrapCompletedKey)) {
    // SPIKE writes exactly "true". Anything else ("True", "false", "") was
    // written by someone else, and guessing its meaning could re-key a
    // bootstrapped deployment.
    if (*completed != "true") {
      return corrupt(kBootstrapCompletedKey, *completed, "exactly \"true\" or no key");
    }
    record.completed = true;
  }
  if (const std::string* completedAt = find(data, kCompletedAtKey)) {
    record.completedAt = *completedAt;
  }
  if (const std::string* completedBy = find(data, kCompletedByPodKey)) {
    record.completedByPod = *completedBy;
  }
  if (const std::string* lastError = find(data, kLastErrorKey)) {
    record.lastError = *lastError;
  }

  if (const std::string* phase = find(data, kPhaseKey)) {
    Result<Phase> parsed = parsePhase(*phase);
    if (!parsed.ok()) {
      return parsed.status();
    }
    record.phase = *parsed;
    if (record.phase == Phase::kCompleted && !record.completed) {
      return corrupt(kBootstrapCompletedKey, "", "\"true\" while phase is completed");
    }
    if (Status status = parseAttempt(data, record); !status.ok()) {
      return status;
    }
  } else {
    for (std::string_view key : kClaimKeys) {
      if (const std::string* value = find(data, key)) {
        return Status(StatusCode::kDataLoss, "corrupt state record: key " + std::string(key) +
                                                 " is set (\"" + *value +
                                                 "\") but phase is missing");
      }
    }
  }

  auto deployment = parseDeployment(data);
  if (!deployment.ok()) {
    return deployment.status();
  }
  record.deployment = std::move(*deployment);
  if (const std::string* fingerprint = find(data, kDeploymentFingerprintKey)) {
    record.deploymentFingerprint = *fingerprint;
  }
  return record;
}

ConfigMapData applyStateRecord(const StateRecord& record, ConfigMapData data) {
  for (auto& [key, value] : recordEntries(record)) {
    setOrErase(data, key, std::move(value));
  }
  return data;
}

DataPatch stateRecordPatch(const StateRecord& record) {
  DataPatch patch;
  for (auto& [key, value] : recordEntries(record)) {
    patch.emplace(std::string(key),
                  value.empty() ? std::nullopt : std::optional<std::string>(std::move(value)));
  }
  return patch;
}

std::string formatKeeperIds(const std::set<int>& ids) {
  std::string text;
  for (int id : ids) {
    if (!text.empty()) {
      text += ',';
    }
    text += std::to_string(id);
  }
  return text;
}

}  // namespace spike_bootstrap::kube
