// SecretBytes over OpenSSL's secure heap, with a wiped ordinary-heap fallback.
#include "spike_bootstrap/crypto/secret_bytes.h"

#include <cstring>
#include <new>
#include <utility>

#include <openssl/crypto.h>

namespace spike_bootstrap::crypto {
namespace {

// 1 MiB holds a 1000-share split with room for OpenSSL's secure BIGNUMs.
// OpenSSL requires a power of two; the minimum block keeps small secrets cheap.
constexpr std::size_t kSecureHeapSize = std::size_t{1} << 20;
constexpr std::size_t kSecureHeapMinBlock = 32;

}  // namespace

SecureHeapState initSecureHeap() {
  static const SecureHeapState state = [] {
    switch (CRYPTO_secure_malloc_init(kSecureHeapSize, kSecureHeapMinBlock)) {
      case 1: return SecureHeapState::kLocked;
      case 2: return SecureHeapState::kUnlocked;
      default: return SecureHeapState::kUnavailable;
    }
  }();
  return state;
}

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
  if (size == 0) {
    return;
  }
  if (CRYPTO_secure_malloc_initialized() != 0) {
    data_ = static_cast<std::uint8_t*>(OPENSSL_secure_zalloc(size));
    secure_ = data_ != nullptr;
  }
  if (data_ == nullptr) {
    // The secure heap is absent or full: the ordinary heap still gets wiped.
    data_ = static_cast<std::uint8_t*>(OPENSSL_zalloc(size));
  }
  if (data_ == nullptr) {
    throw std::bad_alloc();
  }
}

SecretBytes SecretBytes::copyOf(std::span<const std::uint8_t> bytes) {
  SecretBytes secret(bytes.size());
  if (!bytes.empty()) {
    std::memcpy(secret.data_, bytes.data(), bytes.size());
  }
  return secret;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      secure_(std::exchange(other.secure_, false)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    secure_ = std::exchange(other.secure_, false);
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes SecretBytes::clone() const { return copyOf(span()); }

void SecretBytes::wipe() {
  if (data_ == nullptr) {
    return;
  }
  // Both free functions cleanse before releasing the memory.
  if (secure_) {
    OPENSSL_secure_clear_free(data_, size_);
  } else {
    OPENSSL_clear_free(data_, size_);
  }
  data_ = nullptr;
  size_ = 0;
  secure_ = false;
}

bool SecretBytes::equals(std::span<const std::uint8_t> other) const {
  if (other.size() != size_) {
    return false;
  }
  return size_ == 0 || CRYPTO_memcmp(data_, other.data(), size_) == 0;
}

}  // namespace spike_bootstrap::crypto
