// TlsClientProfile: how one client connection sets up and checks TLS.
//
// The HTTPS client asks the profile for a fresh SSL_CTX per connection, so a
// rotated SVID, bundle or CA file is used by the next connection. Two profiles
// exist: SPIFFE mTLS to keepers and Nexus (spiffe module), and a CA file with
// host-name checks for the Kubernetes API server (net module).
#pragma once

#include <optional>
#include <string>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/net/url.h"

namespace spike_bootstrap::net {

class TlsClientProfile {
 public:
  virtual ~TlsClientProfile() = default;

  // Builds the context for one new connection to url: own certificate (if
  // any), trust anchors and verification callback.
  //
  // The client hands the context to boost::asio::ssl::context, whose
  // destructor deletes whatever SSL_CTX_get_app_data() and the default
  // password callback user data point to (Boost 1.81), and Asio's stream does
  // the same with SSL_get_app_data(). Keep state in ex_data indexes of your
  // own (SSL_CTX_get_ex_new_index, SSL_get_ex_new_index), never in those slots.
  virtual Result<SslCtxPtr> makeContext(const Url& url) const = 0;

  // True when the server certificate must match the URL's host name or IP.
  // SPIFFE authenticates by SPIFFE ID instead and returns false.
  virtual bool checkHostName() const = 0;

  // After a failed handshake on a context from makeContext(): why the peer's
  // certificate was rejected (such as "peer id spiffe://td/spike/nexus is not
  // a keeper"), or nullopt when the failure was not a rejection of the peer.
  virtual std::optional<std::string> peerRejection(SSL_CTX* context) const = 0;
};

// Verifies the server against the PEM CA certificates in caPem, with host-name
// or IP checks, and presents no client certificate. Offers TLS 1.2 and later
// and ALPN "http/1.1" only. makeContext() fails with InvalidArgument when caPem
// contains no certificate or a damaged PEM block.
class CaTlsProfile final : public TlsClientProfile {
 public:
  explicit CaTlsProfile(std::string caPem) : caPem_(std::move(caPem)) {}

  Result<SslCtxPtr> makeContext(const Url& url) const override;
  bool checkHostName() const override { return true; }
  std::optional<std::string> peerRejection(SSL_CTX* context) const override;

 private:
  std::string caPem_;
};

}  // namespace spike_bootstrap::net
