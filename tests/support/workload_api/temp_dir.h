// A temporary directory under /tmp for test sockets, removed with its
// contents when the object dies. Paths stay short, because a Unix socket
// path has at most 107 bytes.
#pragma once

#include <string>

namespace spike_bootstrap::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Returns path()/name.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace spike_bootstrap::testing
