// Reading the pod's ServiceAccount files and building the API server URL.
#include "spike_bootstrap/kube/in_cluster.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "spike_bootstrap/common/openssl.h"

namespace spike_bootstrap::kube {
namespace {

// Bounds on what we read from the ServiceAccount volume: a projected token is
// about 1 KiB and a cluster CA bundle a few KiB.
constexpr std::uintmax_t kMaxTokenBytes = 64 * 1024;
constexpr std::uintmax_t kMaxCaBytes = 1024 * 1024;
constexpr std::uintmax_t kMaxNamespaceBytes = 1024;

constexpr std::string_view kAutomountHint =
    "check that the pod mounts its ServiceAccount token (automountServiceAccountToken must not "
    "be false on the pod or its ServiceAccount) or set SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR to "
    "where it is mounted";

Status serviceAccountFileError(const std::filesystem::path& path, std::string_view problem) {
  std::string message = "running in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is set) but " +
                        path.string() + " " + std::string(problem) + "; " +
                        std::string(kAutomountHint);
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}

// Reads a whole file of at most maxBytes.
Result<std::string> readSmallFile(const std::filesystem::path& path, std::uintmax_t maxBytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return serviceAccountFileError(path, "cannot be read: " + std::string(std::strerror(errno)));
  }
  std::string content;
  char buffer[4096];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    content.append(buffer, static_cast<std::size_t>(file.gcount()));
    if (content.size() > maxBytes) {
      return serviceAccountFileError(path, "is larger than " + std::to_string(maxBytes) + " bytes");
    }
  }
  if (file.bad()) {
    return serviceAccountFileError(path, "cannot be read: " + std::string(std::strerror(errno)));
  }
  return content;
}

std::string trimmed(std::string text) {
  std::size_t end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  std::size_t start = text.find_first_not_of(" \t\r\n");
  text.erase(0, start == std::string::npos ? text.size() : start);
  return text;
}

// Counts the PEM certificates in pem; 0 when there are none or one is malformed.
int countPemCertificates(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return 0;
  }
  int count = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    ++count;
  }
  // The loop ends on "no start line" at the end of the data; anything else
  // left in the queue means a block did not parse.
  unsigned long error = ERR_peek_last_error();
  bool cleanEnd = ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  return count > 0 && cleanEnd ? count : 0;
}

Result<std::string> readNamespace(const std::filesystem::path& path,
                                  const std::optional<std::string>& fallbackNamespace) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && fallbackNamespace && !fallbackNamespace->empty()) {
    return *fallbackNamespace;
  }
  Result<std::string> content = readSmallFile(path, kMaxNamespaceBytes);
  if (!content.ok()) {
    return content.status();
  }
  std::string name = trimmed(std::move(*content));
  if (name.empty()) {
    return serviceAccountFileError(path, "is empty");
  }
  return name;
}

}  // namespace

Result<net::Url> apiServerUrl(std::string_view host, std::string_view port) {
  if (host.empty()) {
    return Status(StatusCode::kInvalidArgument, "KUBERNETES_SERVICE_HOST is empty");
  }
  std::string authority;
  bool bareIpv6 = host.find(':') != std::string_view::npos && host.front() != '[';
  authority = bareIpv6 ? "[" + std::string(host) + "]" : std::string(host);
  std::string text = "https://" + authority + ":" + std::string(port);

  Result<net::Url> url = net::parseHttpsUrl(text);
  if (!url.ok()) {
    return url.status().withContext("KUBERNETES_SERVICE_HOST=\"" + std::string(host) +
                                    "\" and KUBERNETES_SERVICE_PORT=\"" + std::string(port) +
                                    "\" do not form the API server URL");
  }
  if (port.empty() || !url->path.empty()) {
    return Status(StatusCode::kInvalidArgument, "KUBERNETES_SERVICE_PORT=\"" + std::string(port) +
                                                    "\" is not a port number between 1 and 65535");
  }
  return url;
}

Result<InClusterConfig> InClusterConfig::load(const config::Config& config) {
  return load(config.kubernetesServiceHost.value_or(""), config.kubernetesServicePort.value_or(""),
              config.serviceAccountDir, config.podNamespace);
}

Result<InClusterConfig> InClusterConfig::load(std::string_view host, std::string_view port,
                                              const std::filesystem::path& serviceAccountDir,
                                              const std::optional<std::string>& fallbackNamespace) {
  Result<net::Url> url = apiServerUrl(host, port);
  if (!url.ok()) {
    return url.status();
  }

  InClusterConfig config(std::move(*url), "", "", serviceAccountDir / "token");

  // Read the token once here so a missing mount fails before any request.
  if (Result<std::string> token = config.readToken(); !token.ok()) {
    return token.status();
  }

  std::filesystem::path caPath = serviceAccountDir / "ca.crt";
  Result<std::string> ca = readSmallFile(caPath, kMaxCaBytes);
  if (!ca.ok()) {
    return ca.status();
  }
  if (countPemCertificates(*ca) == 0) {
    return serviceAccountFileError(caPath, "contains no valid PEM certificate");
  }
  config.caPem_ = std::move(*ca);

  Result<std::string> name = readNamespace(serviceAccountDir / "namespace", fallbackNamespace);
  if (!name.ok()) {
    return name.status();
  }
  config.namespaceName_ = std::move(*name);
  return config;
}

Result<std::string> InClusterConfig::readToken() const {
  Result<std::string> content = readSmallFile(tokenPath_, kMaxTokenBytes);
  if (!content.ok()) {
    return content.status();
  }
  std::string token = trimmed(std::move(*content));
  if (token.empty()) {
    return serviceAccountFileError(tokenPath_, "is empty");
  }
  return token;
}

}  // namespace spike_bootstrap::kube
