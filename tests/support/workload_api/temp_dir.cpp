// TempDir: mkdtemp on creation, recursive removal on destruction.
#include "support/workload_api/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace spike_bootstrap::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/spike-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    throw std::runtime_error("mkdtemp failed for /tmp/spike-test-XXXXXX");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace spike_bootstrap::testing
