// Byte sources and the scalar sampler that draws Shamir coefficients from them.
//
// SPIKE makes its split reproducible: CIRCL draws the polynomial coefficients
// from a reader that SPIKE seeds with the root key, so Nexus can recompute the
// same shares later. The sampler here reads that stream the way Go's
// crypto/rand.Int(reader, N) does, and the stream chains SHA-256 blocks the way
// SPIKE's reader does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::crypto {

// A source of bytes for the sampler. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Fills out from the source and returns how many bytes were written. A
  // count below out.size() means the source has ended.
  virtual std::size_t read(std::span<std::uint8_t> out) = 0;
};

// SPIKE's deterministic stream: the first block is SHA-256(seed), each later
// block is SHA-256 of the block before it, and reads hand out the blocks'
// bytes in order. It never ends. The seed and the current block are secret.
class Sha256ChainStream final : public ByteSource {
 public:
  // Computes the first block from seed; the stream keeps no copy of the seed.
  // A digest failure makes read() return 0.
  explicit Sha256ChainStream(std::span<const std::uint8_t> seed);

  std::size_t read(std::span<std::uint8_t> out) override;

 private:
  // Replaces block_ with SHA-256(input); on failure, ends the stream.
  void hashIntoBlock(std::span<const std::uint8_t> input);

  SecretBytes block_;
  std::size_t position_ = 0;
  bool failed_ = false;
};

// Hands out a fixed sequence of bytes, then ends. The caller keeps the bytes
// alive and wipes them if they are secret.
class FixedByteSource final : public ByteSource {
 public:
  explicit FixedByteSource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t read(std::span<std::uint8_t> out) override;

  // Returns how many bytes have not been read yet.
  std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

// Hands out bytes from OpenSSL's private CSPRNG (RAND_priv_bytes), which is
// seeded from the operating system. Ends only when the CSPRNG fails.
class CsprngByteSource final : public ByteSource {
 public:
  std::size_t read(std::span<std::uint8_t> out) override;
};

// Draws a scalar uniformly from [0, N) as Go's crypto/rand.Int(source, N)
// does for the P-256 order: read 32 bytes, take them as a big-endian integer,
// discard it and read 32 more while it is >= N. Zero is a valid result.
// Returns the scalar as 32 bytes big-endian. Errors: FailedPrecondition when
// the source ends before a scalar is found, Internal on an OpenSSL failure.
Result<SecretBytes> sampleScalar(ByteSource& source);

}  // namespace spike_bootstrap::crypto
