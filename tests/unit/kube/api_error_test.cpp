#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/event_recorder.h"

namespace kube = spike_bootstrap::kube;
using spike_bootstrap::StatusCode;

namespace {

constexpr std::string_view kApiServer = "https://10.96.0.1";

kube::ApiRequest getRequest() {
  kube::ApiRequest request;
  request.method = "GET";
  request.path = "/api/v1/namespaces/spike/configmaps/state";
  request.verb = "get";
  request.resource = "configmaps";
  request.name = "state";
  request.namespaceName = "spike";
  return request;
}

std::string statusBody(int code, std::string_view reason, std::string_view message,
                       std::string_view name = "state", std::string_view kind = "configmaps") {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         std::string(message) + R"(","reason":")" + std::string(reason) +
         R"(","details":{"name":")" + std::string(name) + R"(","kind":")" + std::string(kind) +
         R"("},"code":)" + std::to_string(code) + "}";
}

}  // namespace

TEST_CASE("api error for not found", "[kube][api]") {
  auto error = kube::apiErrorFromResponse(
      getRequest(), 404, statusBody(404, "NotFound", "configmaps \\\"state\\\" not found"),
      kApiServer);
  CHECK(error.notFound());
  CHECK(error.status.code() == StatusCode::kNotFound);
  CHECK(error.reason == "NotFound");
  CHECK(error.verb == "get");
  CHECK_THAT(error.status.message(), Catch::Contains("https://10.96.0.1"));
  CHECK_THAT(error.status.message(), Catch::Contains("configmaps \"state\" in namespace spike"));
}

TEST_CASE("api error bare 404 is not absence", "[kube][api]") {
  auto bare = kube::apiErrorFromResponse(getRequest(), 404, "404 page not found", kApiServer);
  CHECK_FALSE(bare.notFound());
  CHECK(bare.status.code() == StatusCode::kNotFound);
  CHECK_THAT(bare.status.message(), Catch::Contains("not a Kubernetes NotFound status"));

  auto otherObject = kube::apiErrorFromResponse(
      getRequest(), 404, statusBody(404, "NotFound", "gone", "other-name"), kApiServer);
  CHECK_FALSE(otherObject.notFound());

  auto otherKind = kube::apiErrorFromResponse(
      getRequest(), 404, statusBody(404, "NotFound", "gone", "state", "secrets"), kApiServer);
  CHECK_FALSE(otherKind.notFound());
}

TEST_CASE("api error for forbidden names the verb", "[kube][api]") {
  auto error = kube::apiErrorFromResponse(
      getRequest(), 403, statusBody(403, "Forbidden", "configmaps \\\"state\\\" is forbidden"),
      kApiServer);
  CHECK(error.forbidden());
  CHECK(error.status.code() == StatusCode::kPermissionDenied);
  CHECK_FALSE(error.status.retryable());
  CHECK(error.verb == "get");
  CHECK_THAT(error.status.message(),
             Catch::Contains("add verb \"get\" on resource \"configmaps\""));
  CHECK_THAT(error.status.message(), Catch::Contains("is forbidden"));
}

TEST_CASE("api error for forbidden create explains rbac", "[kube][api]") {
  kube::ApiRequest request = getRequest();
  request.method = "POST";
  request.verb = "create";
  auto error =
      kube::apiErrorFromResponse(request, 403, statusBody(403, "Forbidden", "no"), kApiServer);
  CHECK_THAT(error.status.message(), Catch::Contains("add verb \"create\""));
  CHECK_THAT(error.status.message(), Catch::Contains("cannot limit create"));
}

TEST_CASE("api error for conflicts", "[kube][api]") {
  auto exists = kube::apiErrorFromResponse(getRequest(), 409,
                                           statusBody(409, "AlreadyExists", "exists"), kApiServer);
  CHECK(exists.alreadyExists());
  CHECK_FALSE(exists.conflict());
  CHECK(exists.status.code() == StatusCode::kAlreadyExists);

  auto modified = kube::apiErrorFromResponse(getRequest(), 409,
                                             statusBody(409, "Conflict", "modified"), kApiServer);
  CHECK(modified.conflict());
  CHECK_FALSE(modified.alreadyExists());
  CHECK(modified.status.code() == StatusCode::kAborted);
}

TEST_CASE("api error for unauthorized", "[kube][api]") {
  auto error = kube::apiErrorFromResponse(
      getRequest(), 401, R"({"kind":"Status","reason":"Unauthorized","code":401})", kApiServer);
  CHECK(error.unauthorized());
  CHECK(error.status.code() == StatusCode::kUnauthenticated);
  CHECK_THAT(error.status.message(), Catch::Contains("token"));
}

TEST_CASE("api error retryable statuses", "[kube][api]") {
  for (int code : {429, 500, 502, 503, 504}) {
    INFO(code);
    auto error = kube::apiErrorFromResponse(getRequest(), code, "", kApiServer);
    CHECK(error.status.code() == StatusCode::kUnavailable);
    CHECK(error.status.retryable());
  }
}

TEST_CASE("api error for redirect", "[kube][api]") {
  auto error = kube::apiErrorFromResponse(getRequest(), 307, "", kApiServer);
  CHECK(error.status.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(error.status.message(), Catch::Contains("redirects are not followed"));
}

TEST_CASE("api error quotes a short prefix of other bodies", "[kube][api]") {
  auto error = kube::apiErrorFromResponse(getRequest(), 400, std::string(1000, 'x'), kApiServer);
  CHECK(error.status.code() == StatusCode::kInvalidArgument);
  CHECK(error.status.message().find(std::string(200, 'x')) != std::string::npos);
  CHECK(error.status.message().find(std::string(201, 'x')) == std::string::npos);
}

TEST_CASE("event body about a pod", "[kube][events]") {
  kube::PodReference pod{"bootstrap-abc", "spike", "uid-1"};
  kube::TimePoint now{std::chrono::seconds(1714566896)};
  std::string body = kube::eventBody(pod, kube::EventType::kWarning, "BootstrapRefused",
                                     "refused: 2 keepers may hold shares", "spike-bootstrap", now);

  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  REQUIRE_FALSE(document.HasParseError());
  CHECK(std::string(document["kind"].GetString()) == "Event");
  CHECK(std::string(document["metadata"]["name"].GetString()).rfind("bootstrap-abc.", 0) == 0);
  CHECK(std::string(document["metadata"]["namespace"].GetString()) == "spike");
  CHECK(std::string(document["involvedObject"]["kind"].GetString()) == "Pod");
  CHECK(std::string(document["involvedObject"]["name"].GetString()) == "bootstrap-abc");
  CHECK(std::string(document["involvedObject"]["uid"].GetString()) == "uid-1");
  CHECK(std::string(document["type"].GetString()) == "Warning");
  CHECK(std::string(document["reason"].GetString()) == "BootstrapRefused");
  CHECK(std::string(document["firstTimestamp"].GetString()) == "2024-05-01T12:34:56Z");
  CHECK(std::string(document["source"]["component"].GetString()) == "spike-bootstrap");
  CHECK(document["count"].GetInt() == 1);
}

TEST_CASE("event message is cut at utf8 boundary", "[kube][events]") {
  kube::PodReference pod{"p", "spike", ""};
  std::string message = std::string(kube::kMaxEventMessageBytes - 1, 'a') + "\xC3\xA9";
  std::string body =
      kube::eventBody(pod, kube::EventType::kNormal, "R", message, "c", kube::TimePoint{});
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  REQUIRE_FALSE(document.HasParseError());
  CHECK(document["message"].GetStringLength() == kube::kMaxEventMessageBytes - 1);
  CHECK_FALSE(document["involvedObject"].HasMember("uid"));
}
