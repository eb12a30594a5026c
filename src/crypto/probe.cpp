// AES-256-GCM sealing and opening of the verification probe through OpenSSL EVP.
#include "spike_bootstrap/crypto/probe.h"

#include <algorithm>
#include <climits>
#include <string>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/crypto/encoding.h"

namespace spike_bootstrap::crypto {
namespace {

constexpr std::size_t kSha256Size = 32;

Status opensslFailure(std::string_view step) {
  return Status(StatusCode::kInternal, std::string(step) + ": " + drainOpensslErrors());
}

Status checkKeyAndNonce(std::string_view step, const SecretBytes& rootKey,
                        std::span<const std::uint8_t> nonce) {
  if (rootKey.size() != kProbeKeySize) {
    return Status(StatusCode::kInvalidArgument, std::string(step) + ": root key must be " +
                                                    std::to_string(kProbeKeySize) + " bytes, got " +
                                                    std::to_string(rootKey.size()));
  }
  if (nonce.size() != kProbeNonceSize) {
    return Status(StatusCode::kInvalidArgument, std::string(step) + ": nonce must be " +
                                                    std::to_string(kProbeNonceSize) +
                                                    " bytes, got " + std::to_string(nonce.size()));
  }
  return okStatus();
}

// Creates a cipher context for AES-256-GCM with a 12-byte nonce, for sealing
// (encrypt) or opening.
Result<CipherCtxPtr> newGcmContext(std::string_view step, bool encrypt, const SecretBytes& key,
                                   std::span<const std::uint8_t> nonce) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data(), encrypt) != 1) {
    return opensslFailure(step);
  }
  return ctx;
}

bool fitsInt(std::size_t size) { return size <= static_cast<std::size_t>(INT_MAX); }

}  // namespace

Result<std::string> sha256Hex(std::span<const std::uint8_t> bytes) {
  std::array<std::uint8_t, kSha256Size> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    return opensslFailure("sha256");
  }
  return hexEncode(digest);
}

Result<SealedProbe> sealProbeWith(const SecretBytes& rootKey, std::span<const std::uint8_t> nonce,
                                  std::span<const std::uint8_t> plaintext) {
  constexpr std::string_view kStep = "seal probe";
  if (Status checked = checkKeyAndNonce(kStep, rootKey, nonce); !checked.ok()) {
    return checked;
  }
  if (!fitsInt(plaintext.size())) {
    return Status(StatusCode::kInvalidArgument, "seal probe: plaintext is too long");
  }
  Result<CipherCtxPtr> ctx = newGcmContext(kStep, true, rootKey, nonce);
  if (!ctx.ok()) {
    return ctx.status();
  }

  SealedProbe probe;
  std::copy(nonce.begin(), nonce.end(), probe.nonce.begin());
  probe.ciphertext.resize(plaintext.size() + kProbeTagSize);
  int written = 0;
  int finalWritten = 0;
  // GCM is a stream mode: Update writes every byte and Final only computes the tag.
  if (EVP_EncryptUpdate(ctx->get(), probe.ciphertext.data(), &written, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx->get(), probe.ciphertext.data() + written, &finalWritten) != 1 ||
      static_cast<std::size_t>(written + finalWritten) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx->get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kProbeTagSize),
                          probe.ciphertext.data() + plaintext.size()) != 1) {
    return opensslFailure(kStep);
  }

  Result<std::string> hash = sha256Hex(plaintext);
  if (!hash.ok()) {
    return hash.status().withContext(kStep);
  }
  probe.expectedHash = std::move(*hash);
  return probe;
}

Result<SealedProbe> sealProbe(const SecretBytes& rootKey) {
  std::array<std::uint8_t, kProbeNonceSize> nonce{};
  SecretBytes randomBytes(kProbePlaintextSize / 2);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1 ||
      RAND_bytes(randomBytes.data(), static_cast<int>(randomBytes.size())) != 1) {
    return opensslFailure("seal probe: draw nonce and plaintext");
  }
  // The plaintext is the hex text of the random bytes, as SPIKE sends it.
  std::string hex = hexEncode(randomBytes.span());
  SecretBytes plaintext =
      SecretBytes::copyOf(std::span(reinterpret_cast<const std::uint8_t*>(hex.data()), hex.size()));
  OPENSSL_cleanse(hex.data(), hex.size());
  return sealProbeWith(rootKey, nonce, plaintext.span());
}

Result<SecretBytes> openProbe(const SecretBytes& rootKey, std::span<const std::uint8_t> nonce,
                              std::span<const std::uint8_t> ciphertext) {
  constexpr std::string_view kStep = "open probe";
  if (Status checked = checkKeyAndNonce(kStep, rootKey, nonce); !checked.ok()) {
    return checked;
  }
  if (ciphertext.size() < kProbeTagSize || !fitsInt(ciphertext.size())) {
    return Status(StatusCode::kInvalidArgument,
                  "open probe: ciphertext must hold at least the " + std::to_string(kProbeTagSize) +
                      "-byte tag, got " + std::to_string(ciphertext.size()) + " bytes");
  }
  Result<CipherCtxPtr> ctx = newGcmContext(kStep, false, rootKey, nonce);
  if (!ctx.ok()) {
    return ctx.status();
  }

  const std::size_t bodySize = ciphertext.size() - kProbeTagSize;
  SecretBytes plaintext(bodySize);
  int written = 0;
  int finalWritten = 0;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads the tag.
  auto* tag = const_cast<std::uint8_t*>(ciphertext.data() + bodySize);
  // An empty body skips Update: with a null output pointer GCM would take the
  // input as additional data.
  if ((bodySize > 0 && EVP_DecryptUpdate(ctx->get(), plaintext.data(), &written, ciphertext.data(),
                                         static_cast<int>(bodySize)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx->get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kProbeTagSize), tag) !=
          1) {
    return opensslFailure(kStep);
  }
  if (EVP_DecryptFinal_ex(ctx->get(), plaintext.data() + written, &finalWritten) != 1) {
    drainOpensslErrors();
    return Status(StatusCode::kInvalidArgument,
                  "open probe: authentication tag does not verify; the key differs or the "
                  "nonce or ciphertext was altered");
  }
  return plaintext;
}

}  // namespace spike_bootstrap::crypto
