// In-cluster access to the Kubernetes API: the API server's URL from the
// KUBERNETES_SERVICE_* variables, and the pod's ServiceAccount files (token,
// ca.crt, namespace) from the mounted ServiceAccount directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/net/url.h"

namespace spike_bootstrap::kube {

// Everything a run needs to call the API server as its pod's ServiceAccount.
// Immutable after load(); safe to share between threads.
class InClusterConfig {
 public:
  InClusterConfig(net::Url apiServer, std::string namespaceName, std::string caPem,
                  std::filesystem::path tokenPath)
      : apiServer_(std::move(apiServer)),
        namespaceName_(std::move(namespaceName)),
        caPem_(std::move(caPem)),
        tokenPath_(std::move(tokenPath)) {}

  // Builds the config from config.kubernetesServiceHost/Port and the files in
  // config.serviceAccountDir. Call it only when config.inCluster().
  // Errors:
  //   InvalidArgument     the host or port does not form an https URL;
  //   FailedPrecondition  token or ca.crt is missing, unreadable, empty or
  //                       (for ca.crt) contains no PEM certificate, or the
  //                       namespace is unknown. The message names the file and
  //                       automountServiceAccountToken, because a pod that set
  //                       it to false is the usual cause.
  // The namespace comes from the namespace file, else from POD_NAMESPACE.
  static Result<InClusterConfig> load(const config::Config& config);

  // Same as load(config), with the values given directly.
  static Result<InClusterConfig> load(std::string_view host, std::string_view port,
                                      const std::filesystem::path& serviceAccountDir,
                                      const std::optional<std::string>& fallbackNamespace);

  const net::Url& apiServer() const { return apiServer_; }
  const std::string& namespaceName() const { return namespaceName_; }
  // PEM certificates that sign the API server's serving certificate.
  const std::string& caPem() const { return caPem_; }
  const std::filesystem::path& tokenPath() const { return tokenPath_; }

  // Reads the bearer token from tokenPath() on every call: the kubelet
  // replaces bound ServiceAccount tokens before they expire, so a copy kept
  // for the whole run can stop working. Trailing whitespace is trimmed.
  // Returns FailedPrecondition (naming the file and
  // automountServiceAccountToken) when it is unreadable or empty.
  // The token is a credential: never log it.
  Result<std::string> readToken() const;

 private:
  net::Url apiServer_;
  std::string namespaceName_;
  std::string caPem_;
  std::filesystem::path tokenPath_;
};

// Builds https://host:port for the API server. The host is a name, an IPv4
// address or an IPv6 address with or without brackets (KUBERNETES_SERVICE_HOST
// carries none; the URL gets them). Returns InvalidArgument naming the
// variable for an empty or malformed host or a port outside 1-65535.
Result<net::Url> apiServerUrl(std::string_view host, std::string_view port);

}  // namespace spike_bootstrap::kube
