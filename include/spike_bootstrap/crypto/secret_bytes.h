// SecretBytes: the one owning type for secret material (seed, root key,
// coefficients, shares, private keys).
//
// The bytes live in OpenSSL's secure heap when initSecureHeap() succeeded
// (locked in memory, excluded from core dumps) and fall back to the ordinary
// heap otherwise. They are wiped with OPENSSL_cleanse when the object dies or
// is moved from. The type is move-only and has no formatter or stream
// operator, so it cannot be copied or printed by accident.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::crypto {

// Outcome of initSecureHeap().
enum class SecureHeapState {
  kLocked,    // the heap exists and its pages are locked in memory
  kUnlocked,  // the heap exists but mlock was not allowed (RLIMIT_MEMLOCK)
  kUnavailable,
};

// Sets up OpenSSL's secure heap. Call once at start-up, before any secret is
// made; later calls return the first outcome.
SecureHeapState initSecureHeap();

class SecretBytes {
 public:
  SecretBytes() = default;
  // Allocates size zero bytes.
  explicit SecretBytes(std::size_t size);
  // Copies bytes in; the caller wipes its own copy.
  static SecretBytes copyOf(std::span<const std::uint8_t> bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // Makes an explicit copy; there is no implicit one.
  SecretBytes clone() const;

  // Wipes and frees the bytes now; size() becomes 0.
  void wipe();

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::span<std::uint8_t> span() { return {data_, size_}; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }

  // Constant-time comparison of contents.
  bool equals(std::span<const std::uint8_t> other) const;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool secure_ = false;
};

}  // namespace spike_bootstrap::crypto
