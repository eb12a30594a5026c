// OpenSSL error queue reader.
#include "spike_bootstrap/common/openssl.h"

#include <openssl/err.h>

namespace spike_bootstrap {

std::string drainOpensslErrors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) {
      text += "; ";
    }
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error" : text;
}

}  // namespace spike_bootstrap
