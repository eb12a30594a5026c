// CaTlsProfile: server verification against a PEM CA bundle, as used for the
// Kubernetes API server. The host name or IP check itself is switched on per
// connection by the HTTPS client, because it needs the SSL object.
#include "spike_bootstrap/net/tls_profile.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <memory>

namespace spike_bootstrap::net {
namespace {

// ALPN protocol list in wire format (RFC 7301): HTTP/1.1 only, no "h2".
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

void freeRejection(void* /*parent*/, void* pointer, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                   long /*argl*/, void* /*argp*/) {
  delete static_cast<std::string*>(pointer);
}

// ex_data slot of an SSL_CTX that stores why its verify callback rejected the
// peer. The context is made fresh per connection, so one slot per context is
// enough.
int rejectionIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeRejection);
  return index;
}

std::string subjectOf(X509* cert) {
  if (cert == nullptr) {
    return "no certificate";
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
    return "unprintable subject";
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Keeps OpenSSL's verdict and records the first failure on the SSL_CTX, so
// peerRejection() can tell a rejected certificate from a network failure.
int recordRejection(int preverifyOk, X509_STORE_CTX* store) {
  if (preverifyOk == 1) {
    return 1;
  }
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  SSL_CTX* context = ssl == nullptr ? nullptr : SSL_get_SSL_CTX(ssl);
  if (context == nullptr || SSL_CTX_get_ex_data(context, rejectionIndex()) != nullptr) {
    return 0;
  }

  int error = X509_STORE_CTX_get_error(store);
  std::string reason = X509_verify_cert_error_string(error);
  reason += " (certificate at depth ";
  reason += std::to_string(X509_STORE_CTX_get_error_depth(store));
  reason += ", subject \"";
  reason += subjectOf(X509_STORE_CTX_get_current_cert(store));
  reason += "\")";
  auto stored = std::make_unique<std::string>(std::move(reason));
  if (SSL_CTX_set_ex_data(context, rejectionIndex(), stored.get()) == 1) {
    stored.release();
  }
  return 0;
}

// Adds every certificate of a PEM bundle to store. Fails when the text contains
// no certificate or a block that does not parse.
Status addPemCertificates(const std::string& pem, X509_STORE* store) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return Status(StatusCode::kInternal, "CA bundle: " + drainOpensslErrors());
  }
  int count = 0;
  ERR_clear_error();
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      return Status(StatusCode::kInvalidArgument,
                    "CA bundle: cannot add certificate: " + drainOpensslErrors());
    }
    ++count;
  }

  // The loop ends with PEM_R_NO_START_LINE once the text is used up. Any other
  // error means a block was damaged.
  unsigned long error = ERR_peek_last_error();
  if (error != 0 &&
      !(ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE)) {
    return Status(StatusCode::kInvalidArgument,
                  "CA bundle: invalid PEM certificate: " + drainOpensslErrors());
  }
  ERR_clear_error();
  if (count == 0) {
    return Status(
        StatusCode::kInvalidArgument,
        "CA bundle contains no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")");
  }
  return okStatus();
}

}  // namespace

Result<SslCtxPtr> CaTlsProfile::makeContext(const Url& /*url*/) const {
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) {
    return Status(StatusCode::kInternal, "create TLS context: " + drainOpensslErrors());
  }
  if (SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1) {
    return Status(StatusCode::kInternal, "set minimum TLS version: " + drainOpensslErrors());
  }
  if (Status status = addPemCertificates(caPem_, SSL_CTX_get_cert_store(context.get()));
      !status.ok()) {
    return status;
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, recordRejection);

  // SSL_CTX_set_alpn_protos returns 0 on success, unlike most OpenSSL calls.
  if (SSL_CTX_set_alpn_protos(context.get(), kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return Status(StatusCode::kInternal, "set ALPN protocols: " + drainOpensslErrors());
  }
  return context;
}

std::optional<std::string> CaTlsProfile::peerRejection(SSL_CTX* context) const {
  if (context == nullptr) {
    return std::nullopt;
  }
  auto* reason = static_cast<std::string*>(SSL_CTX_get_ex_data(context, rejectionIndex()));
  if (reason == nullptr) {
    return std::nullopt;
  }
  return *reason;
}

}  // namespace spike_bootstrap::net
