// Owning handles for OpenSSL objects and a reader for OpenSSL's error queue.
#pragma once

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace spike_bootstrap {

template <typename T, void (*Free)(T*)>
struct OpensslDeleter {
  void operator()(T* pointer) const { Free(pointer); }
};

template <typename T, void (*Free)(T*)>
using OpensslPtr = std::unique_ptr<T, OpensslDeleter<T, Free>>;

using BioPtr = OpensslPtr<BIO, BIO_free_all>;
using BignumPtr = OpensslPtr<BIGNUM, BN_clear_free>;
using BnCtxPtr = OpensslPtr<BN_CTX, BN_CTX_free>;
using CipherCtxPtr = OpensslPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using MdCtxPtr = OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyPtr = OpensslPtr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = OpensslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using SslCtxPtr = OpensslPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = OpensslPtr<SSL, SSL_free>;
using X509Ptr = OpensslPtr<X509, X509_free>;
using X509StorePtr = OpensslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OpensslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;

// Drains OpenSSL's thread-local error queue into one line ("a; b"), or
// "no OpenSSL error" when it is empty. Call it right after the failed call.
std::string drainOpensslErrors();

}  // namespace spike_bootstrap
