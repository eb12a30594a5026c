// The ConfigMap model and its JSON: what the API server returns and the bodies
// we send for create (POST), update (PUT) and JSON merge patch (PATCH).
//
// Encoding and decoding only; configmap_client.h sends the requests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::kube {

using ConfigMapData = std::map<std::string, std::string, std::less<>>;

// Changes for a JSON merge patch (RFC 7386) of a ConfigMap's data: a value sets
// the key, nullopt deletes it, and keys not listed stay as they are.
using DataPatch = std::map<std::string, std::optional<std::string>, std::less<>>;

struct ConfigMap {
  std::string name;
  std::string namespaceName;
  // Opaque version for optimistic concurrency; empty for an object not yet created.
  std::string resourceVersion;
  std::string uid;
  std::string creationTimestamp;  // RFC 3339 as sent by the API server, or ""
  std::map<std::string, std::string, std::less<>> labels;
  ConfigMapData data;
  // The object exactly as the API server returned it, or "" for one built
  // locally. Update bodies start from it, so fields this model leaves out
  // (annotations, owner references, binaryData) survive a PUT.
  std::string rawJson;
};

// Parses a ConfigMap object. Returns DataLoss when the JSON is malformed, its
// kind is not ConfigMap, metadata.name is missing, or a data or label value is
// not a string.
Result<ConfigMap> parseConfigMap(std::string_view json);

// Builds the POST body: apiVersion, kind, name, namespace, labels and data.
std::string createBody(const ConfigMap& configMap);

// Builds the PUT body from rawJson (when set), overwriting name, namespace,
// labels, data and metadata.resourceVersion with the model's values. A
// non-empty resourceVersion makes the API server reject the update with 409
// Conflict when the object changed since it was read.
std::string updateBody(const ConfigMap& configMap);

// Builds a merge patch body for data. With expectedResourceVersion set, the
// patch carries metadata.resourceVersion, which the API server checks like an
// update does (409 Conflict on mismatch).
std::string mergePatchBody(const DataPatch& patch,
                           const std::optional<std::string>& expectedResourceVersion);

}  // namespace spike_bootstrap::kube
