// ConfigMap JSON with RapidJSON: parsing API server objects and building the
// create, update and merge-patch bodies.
#include "spike_bootstrap/kube/configmap.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace spike_bootstrap::kube {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using Allocator = Document::AllocatorType;

Status invalidObject(std::string_view what) {
  return Status(StatusCode::kDataLoss,
                "API server sent an invalid ConfigMap: " + std::string(what));
}

std::string stringMember(const Value& object, const char* key) {
  auto member = object.FindMember(key);
  if (member == object.MemberEnd() || !member->value.IsString()) {
    return "";
  }
  return std::string(member->value.GetString(), member->value.GetStringLength());
}

// Copies an object of string values (data, labels) into out.
Status readStringMap(const Value& parent, const char* key,
                     std::map<std::string, std::string, std::less<>>& out) {
  auto member = parent.FindMember(key);
  if (member == parent.MemberEnd() || member->value.IsNull()) {
    return okStatus();
  }
  if (!member->value.IsObject()) {
    return invalidObject(std::string(key) + " is not an object");
  }
  for (const auto& entry : member->value.GetObject()) {
    if (!entry.value.IsString()) {
      return invalidObject(std::string(key) + "." + entry.name.GetString() + " is not a string");
    }
    out.emplace(std::string(entry.name.GetString(), entry.name.GetStringLength()),
                std::string(entry.value.GetString(), entry.value.GetStringLength()));
  }
  return okStatus();
}

Value stringValue(std::string_view text, Allocator& allocator) {
  return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

Value stringMapValue(const std::map<std::string, std::string, std::less<>>& map,
                     Allocator& allocator) {
  Value object(rapidjson::kObjectType);
  for (const auto& [key, value] : map) {
    object.AddMember(stringValue(key, allocator), stringValue(value, allocator), allocator);
  }
  return object;
}

// Sets parent[key] = value, replacing any member of that name.
void setMember(Value& parent, const char* key, Value value, Allocator& allocator) {
  auto member = parent.FindMember(key);
  if (member != parent.MemberEnd()) {
    member->value = std::move(value);
  } else {
    parent.AddMember(Value(key, allocator), std::move(value), allocator);
  }
}

// Returns parent[key], made an empty object first when it is missing or not one.
Value& objectMember(Value& parent, const char* key, Allocator& allocator) {
  auto member = parent.FindMember(key);
  if (member == parent.MemberEnd()) {
    parent.AddMember(Value(key, allocator), Value(rapidjson::kObjectType), allocator);
    return parent[key];
  }
  if (!member->value.IsObject()) {
    member->value.SetObject();
  }
  return member->value;
}

std::string serialize(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Result<ConfigMap> parseConfigMap(std::string_view json) {
  Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return invalidObject("the body is not a JSON object");
  }
  std::string kind = stringMember(document, "kind");
  if (kind != "ConfigMap") {
    return invalidObject("kind is \"" + kind + "\", expected \"ConfigMap\"");
  }
  auto metadata = document.FindMember("metadata");
  if (metadata == document.MemberEnd() || !metadata->value.IsObject()) {
    return invalidObject("metadata is missing");
  }

  ConfigMap configMap;
  configMap.name = stringMember(metadata->value, "name");
  if (configMap.name.empty()) {
    return invalidObject("metadata.name is missing");
  }
  configMap.namespaceName = stringMember(metadata->value, "namespace");
  configMap.resourceVersion = stringMember(metadata->value, "resourceVersion");
  configMap.uid = stringMember(metadata->value, "uid");
  configMap.creationTimestamp = stringMember(metadata->value, "creationTimestamp");
  if (Status status = readStringMap(metadata->value, "labels", configMap.labels); !status.ok()) {
    return status;
  }
  if (Status status = readStringMap(document, "data", configMap.data); !status.ok()) {
    return status;
  }
  configMap.rawJson = std::string(json);
  return configMap;
}

std::string createBody(const ConfigMap& configMap) {
  Document document(rapidjson::kObjectType);
  Allocator& allocator = document.GetAllocator();
  document.AddMember("apiVersion", "v1", allocator);
  document.AddMember("kind", "ConfigMap", allocator);

  Value metadata(rapidjson::kObjectType);
  metadata.AddMember("name", stringValue(configMap.name, allocator), allocator);
  if (!configMap.namespaceName.empty()) {
    metadata.AddMember("namespace", stringValue(configMap.namespaceName, allocator), allocator);
  }
  if (!configMap.labels.empty()) {
    metadata.AddMember("labels", stringMapValue(configMap.labels, allocator), allocator);
  }
  document.AddMember("metadata", std::move(metadata), allocator);
  document.AddMember("data", stringMapValue(configMap.data, allocator), allocator);
  return serialize(document);
}

std::string updateBody(const ConfigMap& configMap) {
  Document document;
  if (!configMap.rawJson.empty()) {
    document.Parse(configMap.rawJson.data(), configMap.rawJson.size());
  }
  if (configMap.rawJson.empty() || document.HasParseError() || !document.IsObject()) {
    document.SetObject();
  }
  Allocator& allocator = document.GetAllocator();
  setMember(document, "apiVersion", Value("v1"), allocator);
  setMember(document, "kind", Value("ConfigMap"), allocator);

  Value& metadata = objectMember(document, "metadata", allocator);
  setMember(metadata, "name", stringValue(configMap.name, allocator), allocator);
  if (!configMap.namespaceName.empty()) {
    setMember(metadata, "namespace", stringValue(configMap.namespaceName, allocator), allocator);
  }
  if (configMap.resourceVersion.empty()) {
    metadata.RemoveMember("resourceVersion");
  } else {
    setMember(metadata, "resourceVersion", stringValue(configMap.resourceVersion, allocator),
              allocator);
  }
  if (configMap.labels.empty()) {
    metadata.RemoveMember("labels");
  } else {
    setMember(metadata, "labels", stringMapValue(configMap.labels, allocator), allocator);
  }
  setMember(document, "data", stringMapValue(configMap.data, allocator), allocator);
  return serialize(document);
}

std::string mergePatchBody(const DataPatch& patch,
                           const std::optional<std::string>& expectedResourceVersion) {
  Document document(rapidjson::kObjectType);
  Allocator& allocator = document.GetAllocator();
  if (expectedResourceVersion) {
    Value metadata(rapidjson::kObjectType);
    metadata.AddMember("resourceVersion", stringValue(*expectedResourceVersion, allocator),
                       allocator);
    document.AddMember("metadata", std::move(metadata), allocator);
  }
  Value data(rapidjson::kObjectType);
  for (const auto& [key, value] : patch) {
    // In a merge patch, null removes the key (RFC 7386 section 2).
    data.AddMember(stringValue(key, allocator),
                   value ? stringValue(*value, allocator) : Value(rapidjson::kNullType), allocator);
  }
  document.AddMember("data", std::move(data), allocator);
  return serialize(document);
}

}  // namespace spike_bootstrap::kube
