// SPIFFE ID parsing, role matching and the own-identity check.
#include <catch2/catch.hpp>

#include "spike_bootstrap/spiffe/spiffe_id.h"

namespace spike_bootstrap::spiffe {
namespace {

SpiffeId id(std::string_view text) {
  auto parsed = parseSpiffeId(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

}  // namespace

TEST_CASE("SPIFFE ID parses trust domain and path", "[spiffe]") {
  SpiffeId keeper = id("spiffe://example.org/spike/keeper/2");
  CHECK(keeper.trustDomain == "example.org");
  CHECK(keeper.path == "/spike/keeper/2");
  CHECK(keeper.toString() == "spiffe://example.org/spike/keeper/2");

  SpiffeId bare = id("spiffe://td-1_x.local");
  CHECK(bare.trustDomain == "td-1_x.local");
  CHECK(bare.path.empty());
}

TEST_CASE("SPIFFE ID rejects invalid forms", "[spiffe]") {
  const char* invalid[] = {
      "",
      "example.org/spike/keeper",
      "https://example.org/spike/keeper",
      "SPIFFE://example.org/a",
      "spiffe://",
      "spiffe:///path",
      "spiffe://Example.org/a",
      "spiffe://example.org:8443/a",
      "spiffe://user@example.org/a",
      "spiffe://example.org/",
      "spiffe://example.org/a//b",
      "spiffe://example.org/a/",
      "spiffe://example.org/a/./b",
      "spiffe://example.org/a/../b",
      "spiffe://example.org/a b",
      "spiffe://example.org/a%20b",
      "spiffe://example.org/a?x=1",
      "spiffe://example.org/a#frag",
  };
  for (const char* text : invalid) {
    INFO(text);
    auto parsed = parseSpiffeId(text);
    CHECK_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("SPIFFE ID error names the ID and rule", "[spiffe]") {
  auto parsed = parseSpiffeId("spiffe://example.org:8443/a");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message() ==
        "invalid SPIFFE ID \"spiffe://example.org:8443/a\": a port is not allowed");
}

TEST_CASE("trust domain parses name or ID", "[spiffe]") {
  CHECK(*parseTrustDomain("example.org") == "example.org");
  CHECK(*parseTrustDomain("spiffe://other.org") == "other.org");
  CHECK_FALSE(parseTrustDomain("spiffe://").ok());
  CHECK_FALSE(parseTrustDomain("Example.org").ok());
  CHECK_FALSE(parseTrustDomain("").ok());
}

TEST_CASE("role policy matches base path and below", "[spiffe]") {
  RolePolicy keeper(Role::kKeeper, {"a.org", "b.org"});

  CHECK(keeper.accepts(id("spiffe://a.org/spike/keeper")));
  CHECK(keeper.accepts(id("spiffe://b.org/spike/keeper/2")));
  CHECK(keeper.accepts(id("spiffe://a.org/spike/keeper/x/y")));
  CHECK_FALSE(keeper.accepts(id("spiffe://a.org/spike/keeperx")));
  CHECK_FALSE(keeper.accepts(id("spiffe://a.org/spike/nexus")));
  CHECK_FALSE(keeper.accepts(id("spiffe://c.org/spike/keeper")));
  CHECK_FALSE(keeper.accepts(id("spiffe://a.org/spike")));
  CHECK_FALSE(keeper.accepts(id("spiffe://a.org/other/spike/keeper")));
  CHECK_FALSE(keeper.accepts(id("spiffe://a.org")));
}

TEST_CASE("role policy with no trust domains accepts nothing", "[spiffe]") {
  RolePolicy nexus(Role::kNexus, {});
  CHECK_FALSE(nexus.accepts(id("spiffe://a.org/spike/nexus")));
  CHECK(nexus.describe() == "a nexus ID (no trust domain configured)");
}

TEST_CASE("role policy describes accepted IDs", "[spiffe]") {
  CHECK(RolePolicy(Role::kKeeper, {"td"}).describe() ==
        "a keeper ID (spiffe://td/spike/keeper[/...])");
  CHECK(RolePolicy(Role::kBootstrap, {"a.org", "b.org"}).describe() ==
        "a bootstrap ID (spiffe://a.org/spike/bootstrap[/...] or "
        "spiffe://b.org/spike/bootstrap[/...])");
}

TEST_CASE("own identity check accepts bootstrap ID", "[spiffe]") {
  RolePolicy bootstrap(Role::kBootstrap, {"example.org"});
  CHECK(checkOwnIdentity(id("spiffe://example.org/spike/bootstrap"), bootstrap).ok());
  CHECK(checkOwnIdentity(id("spiffe://example.org/spike/bootstrap/job-1"), bootstrap).ok());
}

TEST_CASE("own identity check rejects wrong ID", "[spiffe]") {
  RolePolicy bootstrap(Role::kBootstrap, {"example.org"});
  Status status = checkOwnIdentity(id("spiffe://example.org/spike/keeper"), bootstrap);

  CHECK(status.code() == StatusCode::kPermissionDenied);
  CHECK_FALSE(status.retryable());
  CHECK_THAT(status.message(), Catch::Contains("spiffe://example.org/spike/keeper"));
  CHECK_THAT(status.message(), Catch::Contains("spiffe://example.org/spike/bootstrap[/...]"));
  CHECK_THAT(status.message(), Catch::Contains("registration entry"));
}

TEST_CASE("own identity check rejects other trust domain", "[spiffe]") {
  RolePolicy bootstrap(Role::kBootstrap, {"example.org"});
  Status status = checkOwnIdentity(id("spiffe://other.org/spike/bootstrap"), bootstrap);
  CHECK(status.code() == StatusCode::kPermissionDenied);
}

TEST_CASE("role names", "[spiffe]") {
  CHECK(roleName(Role::kBootstrap) == "bootstrap");
  CHECK(roleName(Role::kKeeper) == "keeper");
  CHECK(roleName(Role::kNexus) == "nexus");
}

}  // namespace spike_bootstrap::spiffe
