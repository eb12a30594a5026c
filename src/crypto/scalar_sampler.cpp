// The SHA-256 chain stream, fixed and CSPRNG byte sources, and the scalar sampler.
#include "spike_bootstrap/crypto/scalar_sampler.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "spike_bootstrap/common/openssl.h"
#include "spike_bootstrap/crypto/scalar_field.h"

namespace spike_bootstrap::crypto {
namespace {

constexpr std::size_t kSha256Size = 32;

}  // namespace

Sha256ChainStream::Sha256ChainStream(std::span<const std::uint8_t> seed) { hashIntoBlock(seed); }

void Sha256ChainStream::hashIntoBlock(std::span<const std::uint8_t> input) {
  SecretBytes next(kSha256Size);
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), next.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != kSha256Size) {
    failed_ = true;
    block_.wipe();
    return;
  }
  block_ = std::move(next);
  position_ = 0;
}

std::size_t Sha256ChainStream::read(std::span<std::uint8_t> out) {
  std::size_t written = 0;
  while (written < out.size() && !failed_) {
    if (position_ == block_.size()) {
      hashIntoBlock(block_.span());
      continue;
    }
    const std::size_t count = std::min(out.size() - written, block_.size() - position_);
    std::memcpy(out.data() + written, block_.data() + position_, count);
    position_ += count;
    written += count;
  }
  return written;
}

std::size_t FixedByteSource::read(std::span<std::uint8_t> out) {
  const std::size_t count = std::min(out.size(), remaining());
  if (count > 0) {
    std::memcpy(out.data(), bytes_.data() + position_, count);
    position_ += count;
  }
  return count;
}

std::size_t CsprngByteSource::read(std::span<std::uint8_t> out) {
  std::size_t written = 0;
  while (written < out.size()) {
    // RAND_priv_bytes takes an int count, so fill large buffers in pieces.
    const std::size_t count = std::min<std::size_t>(out.size() - written, INT_MAX);
    if (RAND_priv_bytes(out.data() + written, static_cast<int>(count)) != 1) {
      break;
    }
    written += count;
  }
  return written;
}

Result<SecretBytes> sampleScalar(ByteSource& source) {
  BignumPtr candidate(BN_secure_new());
  if (candidate == nullptr) {
    return Status(StatusCode::kInternal, "sample scalar: " + drainOpensslErrors());
  }
  SecretBytes bytes(kScalarSize);
  while (true) {
    const std::size_t count = source.read(bytes.span());
    if (count < bytes.size()) {
      return Status(StatusCode::kFailedPrecondition, "sample scalar: byte source ended after " +
                                                         std::to_string(count) + " of " +
                                                         std::to_string(bytes.size()) + " bytes");
    }
    if (BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), candidate.get()) == nullptr) {
      return Status(StatusCode::kInternal, "sample scalar: " + drainOpensslErrors());
    }
    // Go's crypto/rand.Int rejects values >= N and reads again, so the result
    // is uniform and SPIKE's stream position after each draw is fixed.
    if (isReducedScalar(*candidate)) {
      return bytes;
    }
  }
}

}  // namespace spike_bootstrap::crypto
