// ConfigMapClient: get, create, update and merge-patch of ConfigMaps in the
// ServiceAccount's namespace (core/v1, /api/v1/namespaces/{ns}/configmaps).
//
// Optimistic concurrency follows the Kubernetes API conventions: create fails
// with AlreadyExists when the name is taken, and an update or patch that
// carries metadata.resourceVersion fails with Conflict when the object has
// changed since it was read. Together they give a compare-and-swap on the
// object, which is what the bootstrap claim is built on.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/configmap.h"

namespace spike_bootstrap::kube {

// Thin and stateless; api must outlive the client and every call.
class ConfigMapClient {
 public:
  explicit ConfigMapClient(const ApiClient& api) : api_(api) {}

  // Reads the ConfigMap. A missing object gives an ApiError whose notFound()
  // is true only for the API server's own NotFound status about this name.
  boost::asio::awaitable<ApiResult<ConfigMap>> get(std::string name) const;

  // Creates configMap (name, labels, data) and returns the stored object.
  // AlreadyExists when the name is taken.
  boost::asio::awaitable<ApiResult<ConfigMap>> create(ConfigMap configMap) const;

  // Replaces the object with a PUT built by updateBody(). With a non-empty
  // resourceVersion this fails with Conflict if the object changed; an empty
  // one overwrites unconditionally. Returns the stored object.
  boost::asio::awaitable<ApiResult<ConfigMap>> update(ConfigMap configMap) const;

  // Applies a JSON merge patch to the data (RFC 7386), guarded by
  // expectedResourceVersion when set. Returns the stored object.
  boost::asio::awaitable<ApiResult<ConfigMap>> patch(
      std::string name, DataPatch patch,
      std::optional<std::string> expectedResourceVersion = std::nullopt) const;

 private:
  std::string collectionPath() const;
  boost::asio::awaitable<ApiResult<ConfigMap>> send(ApiRequest request) const;

  const ApiClient& api_;
};

}  // namespace spike_bootstrap::kube
