// FakeKubeApi: request routing, ConfigMap and Event storage, Status bodies
// and fault injection on top of TestHttpsServer.
#include "support/kube/fake_kube_api.h"

#include <random>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spike_bootstrap/kube/rfc3339.h"

namespace spike_bootstrap::testing {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using Allocator = Document::AllocatorType;

std::string serialize(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Value stringValue(std::string_view text, Allocator& allocator) {
  return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

std::string stringMember(const Value& object, const char* key) {
  if (!object.IsObject()) {
    return "";
  }
  auto member = object.FindMember(key);
  if (member == object.MemberEnd() || !member->value.IsString()) {
    return "";
  }
  return std::string(member->value.GetString(), member->value.GetStringLength());
}

void setMember(Value& object, const char* key, Value value, Allocator& allocator) {
  auto member = object.FindMember(key);
  if (member != object.MemberEnd()) {
    member->value = std::move(value);
  } else {
    object.AddMember(Value(key, allocator), std::move(value), allocator);
  }
}

Value& metadataOf(Document& document) {
  auto member = document.FindMember("metadata");
  if (member == document.MemberEnd() || !member->value.IsObject()) {
    setMember(document, "metadata", Value(rapidjson::kObjectType), document.GetAllocator());
    return document["metadata"];
  }
  return member->value;
}

std::string_view reasonFor(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "";
  }
}

// A Status object as the API server sends it with every error.
ServerReply statusReply(int status, std::string_view reason, std::string_view message,
                        std::string_view name = "", std::string_view kind = "") {
  Document document(rapidjson::kObjectType);
  auto& allocator = document.GetAllocator();
  document.AddMember("kind", "Status", allocator);
  document.AddMember("apiVersion", "v1", allocator);
  document.AddMember("metadata", Value(rapidjson::kObjectType), allocator);
  document.AddMember("status", "Failure", allocator);
  document.AddMember("message", stringValue(message, allocator), allocator);
  if (!reason.empty()) {
    document.AddMember("reason", stringValue(reason, allocator), allocator);
  }
  if (!name.empty() || !kind.empty()) {
    Value details(rapidjson::kObjectType);
    if (!name.empty()) {
      details.AddMember("name", stringValue(name, allocator), allocator);
    }
    details.AddMember("kind", stringValue(kind, allocator), allocator);
    document.AddMember("details", std::move(details), allocator);
  }
  document.AddMember("code", status, allocator);
  return ServerReply::json(status, serialize(document));
}

ServerReply notFound(const KubeCall& call) {
  return statusReply(404, "NotFound", call.resource + " \"" + call.name + "\" not found", call.name,
                     call.resource);
}

ServerReply conflict(const KubeCall& call) {
  return statusReply(409, "Conflict",
                     "Operation cannot be fulfilled on " + call.resource + " \"" + call.name +
                         "\": the object has been modified; please apply your changes to the "
                         "latest version and try again",
                     call.name, call.resource);
}

ServerReply forbidden(const KubeCall& call, const std::string& user) {
  std::string object = call.name.empty() ? call.resource : call.resource + " \"" + call.name + "\"";
  return statusReply(403, "Forbidden",
                     object + " is forbidden: User \"" + user + "\" cannot " + call.verb +
                         " resource \"" + call.resource +
                         "\" in API group \"\" in the namespace \"" + call.namespaceName + "\"",
                     call.name, call.resource);
}

ServerReply badRequest(std::string_view message) { return statusReply(400, "BadRequest", message); }

// Applies an RFC 7386 merge patch to target.
void applyMergePatch(Value& target, const Value& patch, Allocator& allocator) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, allocator);
    return;
  }
  if (!target.IsObject()) {
    target.SetObject();
  }
  for (const auto& member : patch.GetObject()) {
    if (member.value.IsNull()) {
      target.RemoveMember(member.name);
      continue;
    }
    auto existing = target.FindMember(member.name);
    if (existing == target.MemberEnd()) {
      target.AddMember(Value(member.name, allocator), Value(), allocator);
      existing = target.FindMember(member.name);
    }
    applyMergePatch(existing->value, member.value, allocator);
  }
}

// ConfigMap data keys must match [-._a-zA-Z0-9]+ and values must be strings,
// as the API server validates them.
std::string invalidDataReason(const Document& document) {
  auto data = document.FindMember("data");
  if (data == document.MemberEnd() || data->value.IsNull()) {
    return "";
  }
  if (!data->value.IsObject()) {
    return "data must be an object of strings";
  }
  for (const auto& entry : data->value.GetObject()) {
    std::string_view key(entry.name.GetString(), entry.name.GetStringLength());
    bool validKey = !key.empty() && key.size() <= 253;
    for (char c : key) {
      bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.';
      validKey = validKey && allowed;
    }
    if (!validKey) {
      return "data[" + std::string(key) +
             "]: Invalid value: a valid config key must consist of "
             "alphanumeric characters, '-', '_' or '.'";
    }
    if (!entry.value.IsString()) {
      return "data[" + std::string(key) + "] must be a string";
    }
  }
  return "";
}

std::string randomHex(std::size_t length) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < length; ++i) {
    text += kHex[engine() % 16];
  }
  return text;
}

std::string verbFor(const std::string& method, bool named) {
  if (method == "GET") {
    return named ? "get" : "list";
  }
  if (method == "POST") {
    return "create";
  }
  if (method == "PUT") {
    return "update";
  }
  if (method == "PATCH") {
    return "patch";
  }
  if (method == "DELETE") {
    return "delete";
  }
  return "";
}

// Splits "/api/v1/namespaces/{ns}/{resource}[/{name}]" into call; false for
// any other path.
bool parsePath(std::string_view target, KubeCall& call) {
  std::string_view path = target.substr(0, target.find('?'));
  call.path = std::string(path);
  constexpr std::string_view kPrefix = "/api/v1/namespaces/";
  if (!path.starts_with(kPrefix)) {
    return false;
  }
  std::vector<std::string> parts;
  std::string_view rest = path.substr(kPrefix.size());
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (parts.size() < 2 || parts.size() > 3) {
    return false;
  }
  call.namespaceName = parts[0];
  call.resource = parts[1];
  call.name = parts.size() == 3 ? parts[2] : "";
  return true;
}

}  // namespace

KubeFault KubeFault::respond(std::string verb, int status, int times) {
  KubeFault fault;
  fault.verb = std::move(verb);
  fault.status = status;
  fault.times = times;
  return fault;
}

KubeFault KubeFault::act(std::string verb, Action action, int times) {
  KubeFault fault;
  fault.verb = std::move(verb);
  fault.action = action;
  fault.times = times;
  return fault;
}

FakeKubeApi::FakeKubeApi(FakeKubeApiOptions options)
    : options_(std::move(options)), clusterCa_(TestCa::root(caOptions("fake-kubernetes-ca"))) {
  CertOptions serving;
  serving.commonName = "kube-apiserver";
  serving.dnsNames = {"localhost", "kubernetes.default.svc"};
  serving.ipAddresses = {"127.0.0.1", "::1"};
  serving.extendedKeyUsage = {"serverAuth"};
  TestCert certificate = clusterCa_.issue(serving);

  currentToken_ = "fake-token-1-" + randomHex(32);
  acceptedTokens_ = {currentToken_};
  tokenGeneration_ = 1;
  serviceAccountDir_ = std::make_unique<ServiceAccountDir>(currentToken_, clusterCa_.bundlePem(),
                                                           options_.namespaceName);

  TestHttpsServerOptions serverOptions;
  serverOptions.address = options_.address;
  server_ = std::make_unique<TestHttpsServer>(
      makeServerContext(certificate),
      [this](const ReceivedRequest& request) { return handle(request); }, serverOptions);
  server_->start();
}

FakeKubeApi::~FakeKubeApi() { server_->stop(); }

std::string FakeKubeApi::port() const { return std::to_string(server_->port()); }

kube::InClusterConfig FakeKubeApi::inClusterConfig() const {
  auto config =
      kube::InClusterConfig::load(host(), port(), serviceAccountDir_->path(), std::nullopt);
  if (!config.ok()) {
    throw std::runtime_error("fake API server config: " + config.status().toString());
  }
  return std::move(*config);
}

std::string FakeKubeApi::token() const {
  std::lock_guard lock(mutex_);
  return currentToken_;
}

void FakeKubeApi::rotateToken() {
  std::lock_guard lock(mutex_);
  ++tokenGeneration_;
  currentToken_ = "fake-token-" + std::to_string(tokenGeneration_) + "-" + randomHex(32);
  acceptedTokens_ = {currentToken_};
  serviceAccountDir_->writeToken(currentToken_);
}

void FakeKubeApi::acceptToken(std::string token) {
  std::lock_guard lock(mutex_);
  acceptedTokens_.push_back(std::move(token));
}

std::string FakeKubeApi::nextResourceVersion() { return std::to_string(++resourceVersion_); }

std::string FakeKubeApi::storeObject(const std::string& name, std::string json) {
  configMaps_[name].json = std::move(json);
  return configMaps_[name].json;
}

std::string FakeKubeApi::seedConfigMap(const std::string& name, const kube::ConfigMapData& data) {
  kube::ConfigMap configMap;
  configMap.name = name;
  configMap.namespaceName = options_.namespaceName;
  configMap.data = data;

  std::lock_guard lock(mutex_);
  Document document;
  std::string body = kube::createBody(configMap);
  document.Parse(body.data(), body.size());
  Value& metadata = metadataOf(document);
  auto& allocator = document.GetAllocator();
  std::string version = nextResourceVersion();
  auto existing = configMaps_.find(name);
  std::string uid = "00000000-0000-4000-8000-" + std::to_string(1000000000000 + ++uidCounter_);
  if (existing != configMaps_.end()) {
    Document old;
    old.Parse(existing->second.json.data(), existing->second.json.size());
    uid = stringMember(old["metadata"], "uid");
  }
  setMember(metadata, "uid", stringValue(uid, allocator), allocator);
  setMember(metadata, "resourceVersion", stringValue(version, allocator), allocator);
  setMember(metadata, "creationTimestamp",
            stringValue(kube::formatRfc3339(std::chrono::system_clock::now()), allocator),
            allocator);
  storeObject(name, serialize(document));
  return version;
}

std::optional<kube::ConfigMap> FakeKubeApi::configMap(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto stored = configMaps_.find(name);
  if (stored == configMaps_.end()) {
    return std::nullopt;
  }
  auto parsed = kube::parseConfigMap(stored->second.json);
  if (!parsed.ok()) {
    throw std::runtime_error("fake API server stored an invalid ConfigMap: " +
                             parsed.status().toString());
  }
  return std::move(*parsed);
}

void FakeKubeApi::deleteConfigMap(const std::string& name) {
  std::lock_guard lock(mutex_);
  configMaps_.erase(name);
}

std::vector<StoredEvent> FakeKubeApi::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

void FakeKubeApi::addFault(KubeFault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void FakeKubeApi::clearFaults() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

std::vector<KubeCall> FakeKubeApi::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t FakeKubeApi::callCount(const std::string& verb, const std::string& resource) const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& call : calls_) {
    if ((verb.empty() || call.verb == verb) && (resource.empty() || call.resource == resource)) {
      ++count;
    }
  }
  return count;
}

std::vector<std::string> FakeKubeApi::serverErrors() const { return server_->errors(); }

std::optional<KubeFault> FakeKubeApi::takeFault(const KubeCall& call) {
  for (auto& fault : faults_) {
    bool matches = (fault.verb.empty() || fault.verb == call.verb) &&
                   (fault.resource.empty() || fault.resource == call.resource) && fault.times != 0;
    if (matches) {
      if (fault.times > 0) {
        --fault.times;
      }
      return fault;
    }
  }
  return std::nullopt;
}

ServerReply FakeKubeApi::handle(const ReceivedRequest& request) {
  std::lock_guard lock(mutex_);
  KubeCall call;
  call.method = request.method;
  call.contentType = std::string(request.header("Content-Type"));
  call.body = request.body;
  std::string_view authorization = request.header("Authorization");
  if (authorization.starts_with("Bearer ")) {
    call.token = std::string(authorization.substr(7));
  }
  bool known = parsePath(request.target, call);
  call.verb = verbFor(call.method, !call.name.empty());

  ServerReply reply = [&] {
    bool authenticated = false;
    for (const auto& token : acceptedTokens_) {
      authenticated = authenticated || (!call.token.empty() && call.token == token);
    }
    if (!authenticated) {
      return statusReply(401, "Unauthorized", "Unauthorized");
    }
    if (!known) {
      return statusReply(404, "NotFound", "the server could not find the requested resource");
    }

    std::optional<KubeFault> fault = takeFault(call);
    if (!fault) {
      return serve(call);
    }
    using Action = KubeFault::Action;
    switch (fault->action) {
      case Action::kDelay: {
        ServerReply delayed = serve(call);
        delayed.delay = fault->delay;
        return delayed;
      }
      case Action::kDrop:
        return ServerReply::withMode(ServerReply::Mode::kCloseWithoutReply);
      case Action::kHang:
        return ServerReply::withMode(ServerReply::Mode::kHang);
      case Action::kApplyThenDrop:
        serve(call);
        return ServerReply::withMode(ServerReply::Mode::kCloseWithoutReply);
      case Action::kApplyThenRespond:
        serve(call);
        break;
      case Action::kRespond:
        break;
    }

    ServerReply injected;
    if (fault->status == 403) {
      injected = forbidden(call, "system:serviceaccount:" + options_.namespaceName + ":" +
                                     options_.serviceAccountName);
    } else if (fault->status >= 300 && fault->status < 400) {
      injected = ServerReply::redirect(fault->status, fault->location);
    } else {
      injected = statusReply(
          fault->status, reasonFor(fault->status),
          "injected " + std::to_string(fault->status) + " for " + call.verb + " " + call.resource);
    }
    if (fault->retryAfterSeconds) {
      injected.headers.emplace_back("Retry-After", std::to_string(*fault->retryAfterSeconds));
    }
    injected.delay = fault->delay;
    return injected;
  }();

  bool answered =
      reply.mode == ServerReply::Mode::kRespond || reply.mode == ServerReply::Mode::kChunked;
  call.status = answered ? reply.status : 0;
  calls_.push_back(std::move(call));
  return reply;
}

ServerReply FakeKubeApi::serve(const KubeCall& call) {
  // RBAC as a namespaced Role grants it: nothing outside our namespace.
  if (call.namespaceName != options_.namespaceName) {
    return forbidden(call, "system:serviceaccount:" + options_.namespaceName + ":" +
                               options_.serviceAccountName);
  }
  if (call.resource == "configmaps") {
    if (call.verb == "get") {
      return getConfigMap(call);
    }
    if (call.verb == "create") {
      return createConfigMap(call);
    }
    if (call.verb == "update") {
      return updateConfigMap(call);
    }
    if (call.verb == "patch") {
      return patchConfigMap(call);
    }
    if (call.verb == "delete") {
      return deleteConfigMapCall(call);
    }
  }
  if (call.resource == "events" && call.verb == "create") {
    return createEvent(call);
  }
  return statusReply(405, "MethodNotAllowed",
                     "the server does not allow this method on the requested resource");
}

ServerReply FakeKubeApi::getConfigMap(const KubeCall& call) {
  auto stored = configMaps_.find(call.name);
  if (stored == configMaps_.end()) {
    return notFound(call);
  }
  return ServerReply::json(200, stored->second.json);
}

ServerReply FakeKubeApi::createConfigMap(const KubeCall& call) {
  Document document;
  document.Parse(call.body.data(), call.body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return badRequest("the body of the request was in an unknown format");
  }
  if (stringMember(document, "kind") != "ConfigMap") {
    return badRequest("the kind of the provided object is not ConfigMap");
  }
  Value& metadata = metadataOf(document);
  std::string name = stringMember(metadata, "name");
  if (name.empty()) {
    return statusReply(422, "Invalid", "ConfigMap \"\" is invalid: metadata.name: Required value",
                       "", "ConfigMap");
  }
  std::string objectNamespace = stringMember(metadata, "namespace");
  if (!objectNamespace.empty() && objectNamespace != call.namespaceName) {
    return badRequest(
        "the namespace of the provided object does not match the namespace sent on "
        "the request");
  }
  if (!stringMember(metadata, "resourceVersion").empty()) {
    return statusReply(422, "Invalid", "resourceVersion should not be set on objects to be created",
                       name, "ConfigMap");
  }
  if (std::string invalid = invalidDataReason(document); !invalid.empty()) {
    return statusReply(422, "Invalid", "ConfigMap \"" + name + "\" is invalid: " + invalid, name,
                       "ConfigMap");
  }
  if (configMaps_.count(name) != 0) {
    return statusReply(409, "AlreadyExists", "configmaps \"" + name + "\" already exists", name,
                       "configmaps");
  }

  auto& allocator = document.GetAllocator();
  setMember(metadata, "namespace", stringValue(call.namespaceName, allocator), allocator);
  setMember(metadata, "uid",
            stringValue("00000000-0000-4000-8000-" + std::to_string(1000000000000 + ++uidCounter_),
                        allocator),
            allocator);
  setMember(metadata, "resourceVersion", stringValue(nextResourceVersion(), allocator), allocator);
  setMember(metadata, "creationTimestamp",
            stringValue(kube::formatRfc3339(std::chrono::system_clock::now()), allocator),
            allocator);
  return ServerReply::json(201, storeObject(name, serialize(document)));
}

ServerReply FakeKubeApi::updateConfigMap(const KubeCall& call) {
  Document document;
  document.Parse(call.body.data(), call.body.size());
  if (document.HasParseError() || !document.IsObject() ||
      stringMember(document, "kind") != "ConfigMap") {
    return badRequest("the body of the request was not a ConfigMap");
  }
  Value& metadata = metadataOf(document);
  std::string name = stringMember(metadata, "name");
  if (name != call.name) {
    return badRequest("the name of the object (" + name + ") does not match the name on the URL (" +
                      call.name + ")");
  }
  std::string objectNamespace = stringMember(metadata, "namespace");
  if (!objectNamespace.empty() && objectNamespace != call.namespaceName) {
    return badRequest(
        "the namespace of the provided object does not match the namespace sent on "
        "the request");
  }
  auto stored = configMaps_.find(call.name);
  if (stored == configMaps_.end()) {
    return notFound(call);
  }
  Document old;
  old.Parse(stored->second.json.data(), stored->second.json.size());
  std::string expected = stringMember(metadata, "resourceVersion");
  if (!expected.empty() && expected != stringMember(old["metadata"], "resourceVersion")) {
    return conflict(call);
  }
  if (std::string invalid = invalidDataReason(document); !invalid.empty()) {
    return statusReply(422, "Invalid", "ConfigMap \"" + name + "\" is invalid: " + invalid, name,
                       "ConfigMap");
  }

  auto& allocator = document.GetAllocator();
  setMember(metadata, "namespace", stringValue(call.namespaceName, allocator), allocator);
  setMember(metadata, "uid", stringValue(stringMember(old["metadata"], "uid"), allocator),
            allocator);
  setMember(metadata, "creationTimestamp",
            stringValue(stringMember(old["metadata"], "creationTimestamp"), allocator), allocator);
  setMember(metadata, "resourceVersion", stringValue(nextResourceVersion(), allocator), allocator);
  return ServerReply::json(200, storeObject(name, serialize(document)));
}

ServerReply FakeKubeApi::patchConfigMap(const KubeCall& call) {
  if (call.contentType != "application/merge-patch+json") {
    return statusReply(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/merge-patch+json");
  }
  Document patch;
  patch.Parse(call.body.data(), call.body.size());
  if (patch.HasParseError() || !patch.IsObject()) {
    return badRequest("the body of the request was not a JSON merge patch");
  }
  auto stored = configMaps_.find(call.name);
  if (stored == configMaps_.end()) {
    return notFound(call);
  }
  Document document;
  document.Parse(stored->second.json.data(), stored->second.json.size());
  Value& metadata = metadataOf(document);

  // A resourceVersion in the patch is a precondition, as for an update.
  auto patchMetadata = patch.FindMember("metadata");
  if (patchMetadata != patch.MemberEnd()) {
    std::string expected = stringMember(patchMetadata->value, "resourceVersion");
    if (!expected.empty() && expected != stringMember(metadata, "resourceVersion")) {
      return conflict(call);
    }
  }

  std::string uid = stringMember(metadata, "uid");
  std::string created = stringMember(metadata, "creationTimestamp");
  auto& allocator = document.GetAllocator();
  applyMergePatch(document, patch, allocator);
  if (std::string invalid = invalidDataReason(document); !invalid.empty()) {
    return statusReply(422, "Invalid", "ConfigMap \"" + call.name + "\" is invalid: " + invalid,
                       call.name, "ConfigMap");
  }
  Value& patchedMetadata = metadataOf(document);
  setMember(patchedMetadata, "name", stringValue(call.name, allocator), allocator);
  setMember(patchedMetadata, "namespace", stringValue(call.namespaceName, allocator), allocator);
  setMember(patchedMetadata, "uid", stringValue(uid, allocator), allocator);
  setMember(patchedMetadata, "creationTimestamp", stringValue(created, allocator), allocator);
  setMember(patchedMetadata, "resourceVersion", stringValue(nextResourceVersion(), allocator),
            allocator);
  return ServerReply::json(200, storeObject(call.name, serialize(document)));
}

ServerReply FakeKubeApi::deleteConfigMapCall(const KubeCall& call) {
  if (configMaps_.erase(call.name) == 0) {
    return notFound(call);
  }
  return ServerReply::json(
      200,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":")" +
          call.name + R"(","kind":"configmaps"}})");
}

ServerReply FakeKubeApi::createEvent(const KubeCall& call) {
  Document document;
  document.Parse(call.body.data(), call.body.size());
  if (document.HasParseError() || !document.IsObject() ||
      stringMember(document, "kind") != "Event") {
    return badRequest("the body of the request was not an Event");
  }
  Value& metadata = metadataOf(document);
  Value none(rapidjson::kObjectType);
  auto involvedMember = document.FindMember("involvedObject");
  const Value& involved = involvedMember != document.MemberEnd() ? involvedMember->value : none;
  StoredEvent event;
  event.namespaceName = call.namespaceName;
  event.name = stringMember(metadata, "name");
  event.type = stringMember(document, "type");
  event.reason = stringMember(document, "reason");
  event.message = stringMember(document, "message");
  event.involvedKind = stringMember(involved, "kind");
  event.involvedName = stringMember(involved, "name");
  event.involvedNamespace = stringMember(involved, "namespace");

  std::string objectNamespace = stringMember(metadata, "namespace");
  if (event.name.empty()) {
    return statusReply(422, "Invalid", "Event is invalid: metadata.name: Required value", "",
                       "Event");
  }
  if ((!objectNamespace.empty() && objectNamespace != call.namespaceName) ||
      event.involvedNamespace != call.namespaceName) {
    return statusReply(422, "Invalid",
                       "Event \"" + event.name +
                           "\" is invalid: involvedObject.namespace: Invalid value: does not "
                           "match event.namespace",
                       event.name, "Event");
  }
  for (const auto& existing : events_) {
    if (existing.name == event.name) {
      return statusReply(409, "AlreadyExists", "events \"" + event.name + "\" already exists",
                         event.name, "events");
    }
  }

  auto& allocator = document.GetAllocator();
  setMember(metadata, "resourceVersion", stringValue(nextResourceVersion(), allocator), allocator);
  event.json = serialize(document);
  events_.push_back(event);
  return ServerReply::json(201, event.json);
}

}  // namespace spike_bootstrap::testing
