// ConfigMapClient: the four ConfigMap calls on top of ApiClient.
#include "spike_bootstrap/kube/configmap_client.h"

namespace spike_bootstrap::kube {
namespace {

// A ConfigMap name is a DNS subdomain (RFC 1123): at most 253 characters of
// lower-case letters, digits, '-' and '.', starting and ending alphanumeric.
// Checking it here also keeps '/', '?' and '%' out of the request path.
bool isValidName(std::string_view name) {
  auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty() || name.size() > 253 || !alphanumeric(name.front()) ||
      !alphanumeric(name.back())) {
    return false;
  }
  for (char c : name) {
    if (!alphanumeric(c) && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace asio = boost::asio;

std::string ConfigMapClient::collectionPath() const {
  return "/api/v1/namespaces/" + api_.config().namespaceName() + "/configmaps";
}

asio::awaitable<ApiResult<ConfigMap>> ConfigMapClient::send(ApiRequest request) const {
  request.resource = "configmaps";
  request.namespaceName = api_.config().namespaceName();
  if (!isValidName(request.name)) {
    ApiError error;
    error.status = Status(StatusCode::kInvalidArgument,
                          "invalid ConfigMap name \"" + request.name +
                              "\": expected a DNS subdomain (lower-case letters, digits, '-' "
                              "and '.'), such as spike-bootstrap-state");
    error.verb = request.verb;
    error.resource = request.resource;
    error.name = request.name;
    co_return error;
  }
  ApiResult<std::string> body = co_await api_.call(request);
  if (!body.ok()) {
    co_return body.error();
  }

  Result<ConfigMap> configMap = parseConfigMap(*body);
  if (!configMap.ok()) {
    ApiError error;
    error.status = configMap.status().withContext(request.verb + " configmaps \"" + request.name +
                                                  "\" at " + api_.config().apiServer().toString());
    error.verb = request.verb;
    error.resource = request.resource;
    error.name = request.name;
    co_return error;
  }
  co_return std::move(*configMap);
}

asio::awaitable<ApiResult<ConfigMap>> ConfigMapClient::get(std::string name) const {
  ApiRequest request;
  request.method = "GET";
  request.path = collectionPath() + "/" + name;
  request.verb = "get";
  request.name = std::move(name);
  co_return co_await send(std::move(request));
}

asio::awaitable<ApiResult<ConfigMap>> ConfigMapClient::create(ConfigMap configMap) const {
  configMap.namespaceName = api_.config().namespaceName();
  ApiRequest request;
  request.method = "POST";
  request.path = collectionPath();
  request.body = createBody(configMap);
  request.verb = "create";
  request.name = configMap.name;
  co_return co_await send(std::move(request));
}

asio::awaitable<ApiResult<ConfigMap>> ConfigMapClient::update(ConfigMap configMap) const {
  configMap.namespaceName = api_.config().namespaceName();
  ApiRequest request;
  request.method = "PUT";
  request.path = collectionPath() + "/" + configMap.name;
  request.body = updateBody(configMap);
  request.verb = "update";
  request.name = configMap.name;
  co_return co_await send(std::move(request));
}

asio::awaitable<ApiResult<ConfigMap>> ConfigMapClient::patch(
    std::string name, DataPatch patch, std::optional<std::string> expectedResourceVersion) const {
  ApiRequest request;
  request.method = "PATCH";
  request.path = collectionPath() + "/" + name;
  request.body = mergePatchBody(patch, expectedResourceVersion);
  request.contentType = "application/merge-patch+json";
  request.verb = "patch";
  request.name = std::move(name);
  co_return co_await send(std::move(request));
}

}  // namespace spike_bootstrap::kube
