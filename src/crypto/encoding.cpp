// Hex by hand, base64 through OpenSSL's EVP_EncodeBlock and EVP_DecodeBlock.
#include "spike_bootstrap/crypto/encoding.h"

#include <algorithm>
#include <string>

#include <openssl/evp.h>

namespace spike_bootstrap::crypto {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Chunk sizes for OpenSSL's int-sized base64 calls: whole groups of 3 bytes and
// of 4 characters.
constexpr std::size_t kBase64BinaryChunk = 3 * (std::size_t{1} << 20);
constexpr std::size_t kBase64TextChunk = 4 * (std::size_t{1} << 20);

int hexValue(char digit) {
  if (digit >= '0' && digit <= '9') {
    return digit - '0';
  }
  if (digit >= 'a' && digit <= 'f') {
    return digit - 'a' + 10;
  }
  if (digit >= 'A' && digit <= 'F') {
    return digit - 'A' + 10;
  }
  return -1;
}

bool isBase64Character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Returns the number of '=' at the end, or -1 when the text is not canonical
// padded base64 (EVP_DecodeBlock alone would skip blanks and accept more).
int checkBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return -1;
  }
  int padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  }
  for (std::size_t i = 0; i < text.size() - static_cast<std::size_t>(padding); ++i) {
    if (!isBase64Character(text[i])) {
      return -1;
    }
  }
  return padding;
}

}  // namespace

std::string hexEncode(std::span<const std::uint8_t> bytes) {
  std::string text;
  text.reserve(bytes.size() * 2);
  for (std::uint8_t byte : bytes) {
    text.push_back(kHexDigits[byte >> 4]);
    text.push_back(kHexDigits[byte & 0x0f]);
  }
  return text;
}

Result<std::vector<std::uint8_t>> hexDecode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "hex text has an odd length (" + std::to_string(text.size()) + ")");
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hexValue(text[i]);
    const int low = hexValue(text[i + 1]);
    if (high < 0 || low < 0) {
      return Status(StatusCode::kInvalidArgument, "hex text has a non-hex character at offset " +
                                                      std::to_string(high < 0 ? i : i + 1));
    }
    bytes.push_back(static_cast<std::uint8_t>((high << 4) | low));
  }
  return bytes;
}

std::string base64Encode(std::span<const std::uint8_t> bytes) {
  std::string text;
  text.reserve(4 * ((bytes.size() + 2) / 3));
  // EVP_EncodeBlock takes an int length, so long inputs go in whole 3-byte groups.
  for (std::size_t offset = 0; offset < bytes.size(); offset += kBase64BinaryChunk) {
    const std::span<const std::uint8_t> chunk =
        bytes.subspan(offset, std::min(kBase64BinaryChunk, bytes.size() - offset));
    const std::size_t start = text.size();
    text.resize(start + 4 * ((chunk.size() + 2) / 3) + 1);
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data() + start),
                                        chunk.data(), static_cast<int>(chunk.size()));
    text.resize(start + static_cast<std::size_t>(written));
  }
  return text;
}

Result<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
  const int padding = checkBase64(text);
  if (padding < 0) {
    return Status(StatusCode::kInvalidArgument,
                  "invalid base64: expected the standard alphabet, '=' padding and a length "
                  "that is a multiple of 4");
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 4 * 3);
  // EVP_DecodeBlock takes an int length, so long inputs go in whole 4-character groups.
  for (std::size_t offset = 0; offset < text.size(); offset += kBase64TextChunk) {
    const std::string_view chunk = text.substr(offset, kBase64TextChunk);
    const std::size_t start = bytes.size();
    bytes.resize(start + chunk.size() / 4 * 3);
    const int decoded =
        EVP_DecodeBlock(bytes.data() + start, reinterpret_cast<const unsigned char*>(chunk.data()),
                        static_cast<int>(chunk.size()));
    if (decoded < 0) {
      return Status(StatusCode::kInvalidArgument, "invalid base64: EVP_DecodeBlock rejected it");
    }
  }
  // EVP_DecodeBlock turns the padding into zero bytes at the end.
  bytes.resize(bytes.size() - static_cast<std::size_t>(padding));
  return bytes;
}

}  // namespace spike_bootstrap::crypto
