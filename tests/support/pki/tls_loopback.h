// Blocking TLS over 127.0.0.1 for tests of TLS contexts: a server that
// accepts connections with a given SSL_CTX on a background thread, and a
// client that connects with another. Both use plain OpenSSL on real sockets.
//
// After a successful handshake the server sends one byte and the client reads
// it. With TLS 1.3 the client finishes its handshake before the server has
// checked the client certificate, so only that byte proves the server
// accepted the client.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "spike_bootstrap/common/openssl.h"

namespace spike_bootstrap::testing {

// What one side saw of one connection.
struct TlsOutcome {
  bool ok = false;
  std::string error;                   // OpenSSL's errors when !ok
  std::optional<std::string> peerUri;  // the peer certificate's first URI SAN
  std::string peerFingerprint;         // SHA-256 of the peer certificate, hex
  std::string alpn;                    // negotiated protocol, "" for none
};

class TlsLoopbackServer {
 public:
  // Listens on 127.0.0.1 with an ephemeral port and serves handshakes with
  // context until destroyed.
  explicit TlsLoopbackServer(SslCtxPtr context);
  ~TlsLoopbackServer();
  TlsLoopbackServer(const TlsLoopbackServer&) = delete;
  TlsLoopbackServer& operator=(const TlsLoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  SSL_CTX* context() const { return context_.get(); }

  // Returns the outcome of the next handshake not yet returned, waiting up
  // to 5 s. Throws when none arrives.
  TlsOutcome nextOutcome();

 private:
  void serve();
  TlsOutcome handshake(int fd);

  SslCtxPtr context_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<TlsOutcome> outcomes_;
  std::thread thread_;
};

// Connects to 127.0.0.1:port with context, performs the handshake and reads
// the server's byte. Socket timeouts of 5 s keep a broken test from hanging.
// When inspect is set, it runs on the established connection.
TlsOutcome connectTls(SSL_CTX* context, std::uint16_t port,
                      const std::function<void(SSL*)>& inspect = {});

}  // namespace spike_bootstrap::testing
