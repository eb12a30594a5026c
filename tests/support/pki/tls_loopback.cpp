// Blocking TLS server and client over 127.0.0.1 with plain OpenSSL.
#include "support/pki/tls_loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace spike_bootstrap::testing {
namespace {

void setTimeouts(int fd) {
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

std::optional<std::string> firstUri(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::optional<std::string> uri;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && !uri; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* text = name->d.uniformResourceIdentifier;
      uri.emplace(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                  static_cast<std::size_t>(ASN1_STRING_length(text)));
    }
  }
  GENERAL_NAMES_free(names);
  return uri;
}

std::string fingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(cert, EVP_sha256(), digest, &length);
  std::string hex;
  constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0xf];
  }
  return hex;
}

// Records the peer certificate and the ALPN protocol of an established connection.
void describePeer(SSL* ssl, TlsOutcome& outcome) {
  if (X509* peer = SSL_get0_peer_certificate(ssl)) {
    outcome.peerUri = firstUri(peer);
    outcome.peerFingerprint = fingerprint(peer);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpnLength = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpnLength);
  outcome.alpn.assign(reinterpret_cast<const char*>(alpn), alpnLength);
}

TlsOutcome failed(const char* step) {
  TlsOutcome outcome;
  outcome.error = std::string(step) + ": " + drainOpensslErrors();
  return outcome;
}

}  // namespace

TlsLoopbackServer::TlsLoopbackServer(SslCtxPtr context) : context_(std::move(context)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listenFd_, 16) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("TLS loopback server could not listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TlsLoopbackServer::~TlsLoopbackServer() {
  // Shutting the listening socket down makes the blocked accept() return.
  ::shutdown(listenFd_, SHUT_RDWR);
  thread_.join();
  ::close(listenFd_);
}

void TlsLoopbackServer::serve() {
  for (;;) {
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) {
      return;
    }
    setTimeouts(fd);
    TlsOutcome outcome = handshake(fd);
    ::close(fd);
    std::lock_guard lock(mutex_);
    outcomes_.push_back(std::move(outcome));
    arrived_.notify_all();
  }
}

TlsOutcome TlsLoopbackServer::handshake(int fd) {
  SslPtr ssl(SSL_new(context_.get()));
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) != 1) {
    return failed("server handshake");
  }
  TlsOutcome outcome;
  describePeer(ssl.get(), outcome);
  const char byte = 'k';
  if (SSL_write(ssl.get(), &byte, 1) != 1) {
    return failed("server write");
  }
  SSL_shutdown(ssl.get());
  outcome.ok = true;
  return outcome;
}

TlsOutcome TlsLoopbackServer::nextOutcome() {
  std::unique_lock lock(mutex_);
  if (!arrived_.wait_for(lock, std::chrono::seconds(5), [this] { return !outcomes_.empty(); })) {
    throw std::runtime_error("no TLS handshake reached the loopback server within 5 s");
  }
  TlsOutcome outcome = std::move(outcomes_.front());
  outcomes_.pop_front();
  return outcome;
}

TlsOutcome connectTls(SSL_CTX* context, std::uint16_t port,
                      const std::function<void(SSL*)>& inspect) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  setTimeouts(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    TlsOutcome outcome;
    outcome.error = "connect to 127.0.0.1:" + std::to_string(port) + " failed";
    return outcome;
  }

  SslPtr ssl(SSL_new(context));
  SSL_set_fd(ssl.get(), fd);
  TlsOutcome outcome;
  if (SSL_connect(ssl.get()) != 1) {
    outcome = failed("client handshake");
  } else {
    char byte = 0;
    if (SSL_read(ssl.get(), &byte, 1) != 1) {
      outcome = failed("client read");
    } else {
      describePeer(ssl.get(), outcome);
      outcome.ok = true;
      if (inspect) {
        inspect(ssl.get());
      }
      SSL_shutdown(ssl.get());
    }
  }
  ::close(fd);
  ERR_clear_error();
  return outcome;
}

}  // namespace spike_bootstrap::testing
