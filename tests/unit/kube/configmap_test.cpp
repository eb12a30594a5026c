#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/configmap.h"

namespace kube = spike_bootstrap::kube;
using spike_bootstrap::StatusCode;

namespace {

// A ConfigMap as the API server returns it, with fields the model leaves out.
constexpr std::string_view kStoredObject = R"({
  "kind": "ConfigMap",
  "apiVersion": "v1",
  "metadata": {
    "name": "spike-bootstrap-state",
    "namespace": "spike",
    "uid": "2f1c6a9e-0000-4000-8000-000000000001",
    "resourceVersion": "4711",
    "creationTimestamp": "2024-05-01T12:34:56Z",
    "labels": {"app.kubernetes.io/name": "spike"},
    "annotations": {"meta.helm.sh/release-name": "spike"},
    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "bootstrap",
                         "uid": "u-1"}]
  },
  "data": {"bootstrap-completed": "true", "completed-by-pod": "bootstrap-x"},
  "binaryData": {"blob": "AAE="}
})";

rapidjson::Document parseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

}  // namespace

TEST_CASE("configmap parses stored object", "[kube][configmap]") {
  auto parsed = kube::parseConfigMap(kStoredObject);
  REQUIRE(parsed.ok());
  CHECK(parsed->name == "spike-bootstrap-state");
  CHECK(parsed->namespaceName == "spike");
  CHECK(parsed->resourceVersion == "4711");
  CHECK(parsed->uid == "2f1c6a9e-0000-4000-8000-000000000001");
  CHECK(parsed->creationTimestamp == "2024-05-01T12:34:56Z");
  CHECK(parsed->labels.at("app.kubernetes.io/name") == "spike");
  CHECK(parsed->data.size() == 2);
  CHECK(parsed->data.at("bootstrap-completed") == "true");
  CHECK(parsed->rawJson == kStoredObject);
}

TEST_CASE("configmap without data parses empty", "[kube][configmap]") {
  auto parsed = kube::parseConfigMap(R"({"kind":"ConfigMap","metadata":{"name":"a"}})");
  REQUIRE(parsed.ok());
  CHECK(parsed->data.empty());
  CHECK(parsed->resourceVersion.empty());
}

TEST_CASE("configmap rejects invalid objects", "[kube][configmap]") {
  const char* invalid[] = {
      "not json",
      "[]",
      R"({"kind":"Secret","metadata":{"name":"a"}})",
      R"({"metadata":{"name":"a"}})",
      R"({"kind":"ConfigMap"})",
      R"({"kind":"ConfigMap","metadata":{}})",
      R"({"kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":1}})",
      R"({"kind":"ConfigMap","metadata":{"name":"a"},"data":["k"]})",
      R"({"kind":"ConfigMap","metadata":{"name":"a","labels":{"l":true}}})",
      R"({"kind":"ConfigMap","metadata":{"name":"a"}} trailing)",
  };
  for (const char* text : invalid) {
    INFO(text);
    auto parsed = kube::parseConfigMap(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kDataLoss);
  }
}

TEST_CASE("configmap create body", "[kube][configmap]") {
  kube::ConfigMap configMap;
  configMap.name = "state";
  configMap.namespaceName = "spike";
  configMap.labels = {{"app.kubernetes.io/managed-by", "spike-bootstrap"}};
  configMap.data = {{"phase", "claimed"}, {"quote", "a\"b\n"}};

  auto document = parseJson(kube::createBody(configMap));
  CHECK(std::string(document["apiVersion"].GetString()) == "v1");
  CHECK(std::string(document["kind"].GetString()) == "ConfigMap");
  CHECK(std::string(document["metadata"]["name"].GetString()) == "state");
  CHECK(std::string(document["metadata"]["namespace"].GetString()) == "spike");
  CHECK_FALSE(document["metadata"].HasMember("resourceVersion"));
  CHECK(std::string(document["metadata"]["labels"]["app.kubernetes.io/managed-by"].GetString()) ==
        "spike-bootstrap");
  CHECK(std::string(document["data"]["phase"].GetString()) == "claimed");
  CHECK(std::string(document["data"]["quote"].GetString()) == "a\"b\n");
}

TEST_CASE("configmap update keeps unmodelled fields", "[kube][configmap]") {
  auto parsed = kube::parseConfigMap(kStoredObject);
  REQUIRE(parsed.ok());
  kube::ConfigMap configMap = *parsed;
  configMap.data = {{"phase", "claimed"}};

  auto document = parseJson(kube::updateBody(configMap));
  const auto& metadata = document["metadata"];
  CHECK(std::string(metadata["resourceVersion"].GetString()) == "4711");
  CHECK(std::string(metadata["annotations"]["meta.helm.sh/release-name"].GetString()) == "spike");
  CHECK(metadata["ownerReferences"].Size() == 1);
  CHECK(std::string(metadata["labels"]["app.kubernetes.io/name"].GetString()) == "spike");
  CHECK(std::string(document["binaryData"]["blob"].GetString()) == "AAE=");
  CHECK(document["data"].MemberCount() == 1);
  CHECK(std::string(document["data"]["phase"].GetString()) == "claimed");
}

TEST_CASE("configmap update without version is unconditional", "[kube][configmap]") {
  auto parsed = kube::parseConfigMap(kStoredObject);
  REQUIRE(parsed.ok());
  kube::ConfigMap configMap = *parsed;
  configMap.resourceVersion.clear();
  configMap.labels.clear();

  auto document = parseJson(kube::updateBody(configMap));
  CHECK_FALSE(document["metadata"].HasMember("resourceVersion"));
  CHECK_FALSE(document["metadata"].HasMember("labels"));
}

TEST_CASE("configmap update from a local model", "[kube][configmap]") {
  kube::ConfigMap configMap;
  configMap.name = "state";
  configMap.resourceVersion = "7";
  configMap.data = {{"k", "v"}};

  auto document = parseJson(kube::updateBody(configMap));
  CHECK(std::string(document["kind"].GetString()) == "ConfigMap");
  CHECK(std::string(document["metadata"]["name"].GetString()) == "state");
  CHECK(std::string(document["metadata"]["resourceVersion"].GetString()) == "7");
  CHECK(std::string(document["data"]["k"].GetString()) == "v");
}

TEST_CASE("configmap merge patch sets and deletes keys", "[kube][configmap]") {
  kube::DataPatch patch = {{"phase", "failed"}, {"holder", std::nullopt}};

  auto guarded = parseJson(kube::mergePatchBody(patch, std::string("12")));
  CHECK(std::string(guarded["metadata"]["resourceVersion"].GetString()) == "12");
  CHECK(std::string(guarded["data"]["phase"].GetString()) == "failed");
  CHECK(guarded["data"]["holder"].IsNull());

  auto unguarded = parseJson(kube::mergePatchBody(patch, std::nullopt));
  CHECK_FALSE(unguarded.HasMember("metadata"));
  CHECK(unguarded["data"].MemberCount() == 2);
}
