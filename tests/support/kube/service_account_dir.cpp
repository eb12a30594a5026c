// ServiceAccountDir: temp directory creation, atomic token replacement.
#include "support/kube/service_account_dir.h"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>
#include <system_error>

namespace spike_bootstrap::testing {

ServiceAccountDir::ServiceAccountDir(std::string_view token, std::string_view caPem,
                                     std::string_view namespaceName) {
  std::string pattern = (std::filesystem::temp_directory_path() / "sa-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
  writeToken(token);
  writeFile("ca.crt", caPem);
  writeFile("namespace", namespaceName);
}

ServiceAccountDir::~ServiceAccountDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void ServiceAccountDir::writeToken(std::string_view token) const {
  writeFile("..token.new", token);
  std::filesystem::rename(path_ / "..token.new", path_ / "token");
}

void ServiceAccountDir::writeFile(std::string_view name, std::string_view content) const {
  std::ofstream file(path_ / name, std::ios::binary | std::ios::trunc);
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!file) {
    throw std::runtime_error("cannot write " + (path_ / name).string());
  }
}

void ServiceAccountDir::removeFile(std::string_view name) const {
  std::filesystem::remove(path_ / name);
}

}  // namespace spike_bootstrap::testing
