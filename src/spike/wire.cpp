// RapidJSON encoders and decoders for the keeper and Nexus bodies.
//
// The contribute body carries a share, so it never goes through a DOM or a
// heap string. The encoder writes into a SecretBytes through a small output
// stream, and the decoder is a SAX handler that stores the bytes straight into
// a SecretBytes. The verify bodies contain nothing secret and use a DOM.
#include "spike_bootstrap/spike/wire.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spike_bootstrap/crypto/encoding.h"

namespace spike_bootstrap::spike {
namespace {

// Iterative parsing keeps the call stack flat on deeply nested input. Encoding
// validation rejects invalid UTF-8, which Go's decoder would replace with U+FFFD.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// {"shard":[ + 32 numbers of up to 3 digits + 31 commas + ]} is 139 bytes.
constexpr std::size_t kContributeBodyCapacity = 160;

constexpr std::size_t kHashHexSize = 64;

// Nexus error codes are short words, so messages cut a longer value to this length.
constexpr std::size_t kMaxQuotedErrorCode = 64;

Status invalid(std::string_view what, std::string_view problem) {
  return Status(StatusCode::kInvalidArgument, std::string(what) + ": " + std::string(problem));
}

// Checks what RapidJSON cannot: the size limit, and NUL bytes, which its
// MemoryStream reports as the end of input (so trailing bytes would be ignored).
Status checkRawBody(std::string_view what, std::string_view body) {
  if (body.size() > kMaxBodySize) {
    return invalid(what, "body is " + std::to_string(body.size()) + " bytes, over the limit of " +
                             std::to_string(kMaxBodySize));
  }
  if (body.find('\0') != std::string_view::npos) {
    return invalid(what, "body contains a NUL byte");
  }
  return okStatus();
}

std::string parseErrorText(rapidjson::ParseErrorCode code, std::size_t offset) {
  return std::string("invalid JSON at offset ") + std::to_string(offset) + ": " +
         rapidjson::GetParseError_En(code);
}

bool isZero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; });
}

// A RapidJSON output stream over a fixed SecretBytes buffer.
class SecretBufferStream {
 public:
  using Ch = char;

  explicit SecretBufferStream(crypto::SecretBytes& buffer) : buffer_(buffer) {}

  void Put(Ch c) {
    if (size_ < buffer_.size()) {
      buffer_.data()[size_] = static_cast<std::uint8_t>(c);
      ++size_;
    } else {
      overflow_ = true;
    }
  }
  void Flush() {}

  std::size_t size() const { return size_; }
  bool overflow() const { return overflow_; }

 private:
  crypto::SecretBytes& buffer_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

// SAX handler for {"shard":[...]}: a state machine over the events of the one
// allowed shape, which skips the values of unknown members.
class ContributeBodyHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ContributeBodyHandler> {
 public:
  ContributeBodyHandler() : shard_(kShardSize) {}

  bool Null() { return scalar("null"); }
  bool Bool(bool) { return scalar("a boolean"); }
  bool Int(int) { return scalar("a negative number"); }
  bool Int64(std::int64_t) { return scalar("a negative number"); }
  bool Uint64(std::uint64_t) { return scalar("a number over 255"); }
  bool Double(double) { return scalar("a non-integer number"); }
  bool String(const Ch*, rapidjson::SizeType, bool) { return scalar("a string"); }
  bool Uint(unsigned value);
  bool Key(const Ch* text, rapidjson::SizeType length, bool);
  bool StartObject() { return open("an object"); }
  bool StartArray() { return open("an array"); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // Checks the completed shard after a successful parse.
  Status finish();

  crypto::SecretBytes takeShard() { return std::move(shard_); }

  const std::string& error() const { return error_; }

 private:
  enum class State { kStart, kMembers, kShardValue, kShardElements, kSkipping, kDone };

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool scalar(std::string_view type);
  bool open(std::string_view type);
  bool close();

  crypto::SecretBytes shard_;
  std::size_t count_ = 0;
  bool shardSeen_ = false;
  State state_ = State::kStart;
  int skipDepth_ = 0;
  std::string error_;
};

bool ContributeBodyHandler::Uint(unsigned value) {
  if (state_ != State::kShardElements || value > 255) {
    return scalar(value > 255 ? "a number over 255" : "a number");
  }
  if (count_ == kShardSize) {
    return fail("shard has more than " + std::to_string(kShardSize) + " elements");
  }
  shard_.data()[count_++] = static_cast<std::uint8_t>(value);
  return true;
}

bool ContributeBodyHandler::Key(const Ch* text, rapidjson::SizeType length, bool) {
  if (state_ == State::kSkipping) {
    return true;
  }
  // The state is kMembers here, because open() rejects objects in every other state.
  if (std::string_view(text, length) != "shard") {
    state_ = State::kSkipping;
    skipDepth_ = 0;
    return true;
  }
  if (shardSeen_) {
    return fail("\"shard\" appears more than once");
  }
  shardSeen_ = true;
  state_ = State::kShardValue;
  return true;
}

bool ContributeBodyHandler::scalar(std::string_view type) {
  switch (state_) {
    case State::kSkipping:
      if (skipDepth_ == 0) {
        state_ = State::kMembers;
      }
      return true;
    case State::kShardValue:
      return fail("\"shard\" must be an array of " + std::to_string(kShardSize) +
                  " integers in 0..255, got " + std::string(type) +
                  (type == "a string" ? " (base64 is not accepted)" : ""));
    case State::kShardElements:
      return fail("shard element " + std::to_string(count_) +
                  " must be an integer in 0..255, got " + std::string(type));
    default:
      return fail("body must be a JSON object, got " + std::string(type));
  }
}

bool ContributeBodyHandler::open(std::string_view type) {
  switch (state_) {
    case State::kStart:
      if (type != "an object") {
        return fail("body must be a JSON object, got " + std::string(type));
      }
      state_ = State::kMembers;
      return true;
    case State::kShardValue:
      if (type != "an array") {
        return scalar(type);
      }
      state_ = State::kShardElements;
      return true;
    case State::kSkipping:
      ++skipDepth_;
      return true;
    default:
      return scalar(type);
  }
}

bool ContributeBodyHandler::close() {
  switch (state_) {
    case State::kSkipping:
      if (--skipDepth_ == 0) {
        state_ = State::kMembers;
      }
      return true;
    case State::kShardElements:
      state_ = State::kMembers;
      return true;
    case State::kMembers:
      state_ = State::kDone;
      return true;
    default:
      // RapidJSON only reports balanced closes, so nothing else gets here.
      return fail("unexpected end of a container");
  }
}

Status ContributeBodyHandler::finish() {
  if (!shardSeen_) {
    return invalid("contribute body", "\"shard\" is missing");
  }
  if (count_ != kShardSize) {
    return invalid("contribute body", "shard has " + std::to_string(count_) +
                                          " elements, expected " + std::to_string(kShardSize));
  }
  if (isZero(shard_.span())) {
    return invalid("contribute body", "shard is all zero");
  }
  return okStatus();
}

// Parses body into document and requires a JSON object at the top.
Status parseObject(std::string_view what, std::string_view body, rapidjson::Document& document) {
  if (Status raw = checkRawBody(what, body); !raw.ok()) {
    return raw;
  }
  document.Parse<kParseFlags>(body.data(), body.size());
  if (document.HasParseError()) {
    return invalid(what, parseErrorText(document.GetParseError(), document.GetErrorOffset()));
  }
  if (!document.IsObject()) {
    return invalid(what, "body must be a JSON object");
  }
  return okStatus();
}

// Returns the string member name, nullopt when it is absent.
// Errors: InvalidArgument when it appears twice or is not a string.
Result<std::optional<std::string_view>> findString(std::string_view what,
                                                   const rapidjson::Value& object,
                                                   std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& member : object.GetObject()) {
    if (std::string_view(member.name.GetString(), member.name.GetStringLength()) != name) {
      continue;
    }
    if (found.has_value()) {
      return invalid(what, "\"" + std::string(name) + "\" appears more than once");
    }
    if (!member.value.IsString()) {
      return invalid(what, "\"" + std::string(name) + "\" must be a string");
    }
    found = std::string_view(member.value.GetString(), member.value.GetStringLength());
  }
  return found;
}

Result<std::vector<std::uint8_t>> requireBase64(std::string_view what,
                                                const rapidjson::Value& object,
                                                std::string_view name) {
  Result<std::optional<std::string_view>> text = findString(what, object, name);
  if (!text.ok()) {
    return text.status();
  }
  if (!text->has_value()) {
    return invalid(what, "\"" + std::string(name) + "\" is missing");
  }
  Result<std::vector<std::uint8_t>> bytes = crypto::base64Decode(**text);
  if (!bytes.ok()) {
    return bytes.status().withContext(std::string(what) + ": \"" + std::string(name) + "\"");
  }
  return bytes;
}

bool isLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<crypto::SecretBytes> encodeContributeBody(std::span<const std::uint8_t> shard) {
  if (shard.size() != kShardSize) {
    return invalid("contribute body", "shard must be " + std::to_string(kShardSize) +
                                          " bytes, got " + std::to_string(shard.size()));
  }
  if (isZero(shard)) {
    return invalid("contribute body", "shard is all zero, which a keeper rejects");
  }
  crypto::SecretBytes buffer(kContributeBodyCapacity);
  SecretBufferStream stream(buffer);
  rapidjson::Writer<SecretBufferStream> writer(stream);
  writer.StartObject();
  writer.Key("shard");
  writer.StartArray();
  for (std::uint8_t byte : shard) {
    writer.Uint(byte);
  }
  writer.EndArray();
  writer.EndObject();
  if (stream.overflow() || !writer.IsComplete()) {
    return Status(StatusCode::kInternal, "contribute body: encoder buffer too small");
  }
  return crypto::SecretBytes::copyOf(buffer.span().first(stream.size()));
}

Result<crypto::SecretBytes> decodeContributeBody(std::string_view body) {
  constexpr std::string_view kWhat = "contribute body";
  if (Status raw = checkRawBody(kWhat, body); !raw.ok()) {
    return raw;
  }
  ContributeBodyHandler handler;
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  const rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(stream, handler);
  if (!handler.error().empty()) {
    return invalid(kWhat, handler.error());
  }
  if (parsed.IsError()) {
    return invalid(kWhat, parseErrorText(parsed.Code(), parsed.Offset()));
  }
  if (Status finished = handler.finish(); !finished.ok()) {
    return finished;
  }
  return handler.takeShard();
}

std::string encodeVerifyRequest(const crypto::SealedProbe& probe) {
  const std::string nonce = crypto::base64Encode(probe.nonce);
  const std::string ciphertext = crypto::base64Encode(probe.ciphertext);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("nonce");
  writer.String(nonce.data(), static_cast<rapidjson::SizeType>(nonce.size()));
  writer.Key("ciphertext");
  writer.String(ciphertext.data(), static_cast<rapidjson::SizeType>(ciphertext.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<VerifyRequest> decodeVerifyRequest(std::string_view body) {
  constexpr std::string_view kWhat = "verify request";
  rapidjson::Document document;
  if (Status parsed = parseObject(kWhat, body, document); !parsed.ok()) {
    return parsed;
  }
  Result<std::vector<std::uint8_t>> nonce = requireBase64(kWhat, document, "nonce");
  if (!nonce.ok()) {
    return nonce.status();
  }
  Result<std::vector<std::uint8_t>> ciphertext = requireBase64(kWhat, document, "ciphertext");
  if (!ciphertext.ok()) {
    return ciphertext.status();
  }
  if (nonce->size() != crypto::kProbeNonceSize) {
    return invalid(kWhat, "nonce must be " + std::to_string(crypto::kProbeNonceSize) +
                              " bytes, got " + std::to_string(nonce->size()));
  }
  if (ciphertext->size() < crypto::kProbeTagSize) {
    return invalid(kWhat, "ciphertext must hold at least the " +
                              std::to_string(crypto::kProbeTagSize) + "-byte tag, got " +
                              std::to_string(ciphertext->size()) + " bytes");
  }
  VerifyRequest request;
  std::copy(nonce->begin(), nonce->end(), request.nonce.begin());
  request.ciphertext = std::move(*ciphertext);
  return request;
}

std::string encodeVerifyResponse(std::string_view hash) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("hash");
  writer.String(hash.data(), static_cast<rapidjson::SizeType>(hash.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> decodeVerifyResponse(std::string_view body) {
  constexpr std::string_view kWhat = "verify response";
  rapidjson::Document document;
  if (Status parsed = parseObject(kWhat, body, document); !parsed.ok()) {
    return parsed;
  }
  Result<std::optional<std::string_view>> errorCode = findString(kWhat, document, "err");
  if (!errorCode.ok()) {
    return errorCode.status();
  }
  // Some spike-sdk-go versions send "err":"success" next to the hash; later
  // ones leave "err" out on success.
  if (errorCode->has_value() && !(*errorCode)->empty() && **errorCode != "success") {
    return invalid(kWhat, "Nexus returned error code \"" +
                              std::string((*errorCode)->substr(0, kMaxQuotedErrorCode)) + "\"");
  }
  Result<std::optional<std::string_view>> hash = findString(kWhat, document, "hash");
  if (!hash.ok()) {
    return hash.status();
  }
  if (!hash->has_value()) {
    return invalid(kWhat, "\"hash\" is missing");
  }
  if ((*hash)->size() != kHashHexSize || !isLowerHex(**hash)) {
    return invalid(kWhat,
                   "\"hash\" must be " + std::to_string(kHashHexSize) + " lower-case hex digits");
  }
  return std::string(**hash);
}

}  // namespace spike_bootstrap::spike
