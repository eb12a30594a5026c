// ServiceAccountDir: a temporary directory laid out like a pod's mounted
// ServiceAccount volume (token, ca.crt, namespace), for in-cluster tests.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace spike_bootstrap::testing {

// Creates the directory under the system temp directory on construction and
// removes it with its files on destruction. Not thread-safe.
class ServiceAccountDir {
 public:
  // Writes all three files.
  ServiceAccountDir(std::string_view token, std::string_view caPem, std::string_view namespaceName);
  ~ServiceAccountDir();
  ServiceAccountDir(const ServiceAccountDir&) = delete;
  ServiceAccountDir& operator=(const ServiceAccountDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Replaces the token file atomically (a new file renamed over the old one),
  // so a reader never sees a partly written token.
  void writeToken(std::string_view token) const;
  // Writes any file in the directory ("ca.crt", "namespace", ...).
  void writeFile(std::string_view name, std::string_view content) const;
  void removeFile(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

}  // namespace spike_bootstrap::testing
