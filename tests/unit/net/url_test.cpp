// Tests of https URL parsing, formatting and path joining.
#include <catch2/catch.hpp>

#include <string>

#include "spike_bootstrap/net/url.h"

using spike_bootstrap::StatusCode;
using spike_bootstrap::net::joinPath;
using spike_bootstrap::net::parseHttpsUrl;
using spike_bootstrap::net::Url;

namespace {

Url parseOrFail(const std::string& text) {
  auto url = parseHttpsUrl(text);
  INFO(text << ": " << url.status().toString());
  REQUIRE(url.ok());
  return *url;
}

}  // namespace

TEST_CASE("url parses host, port and path", "[net][url]") {
  Url url = parseOrFail("https://keeper-1.spike.svc:8443/k1");
  CHECK(url.host == "keeper-1.spike.svc");
  CHECK(url.port == 8443);
  CHECK(url.path == "/k1");
  CHECK_FALSE(url.ipHost());
  CHECK_FALSE(url.ipv6Host());
}

TEST_CASE("url defaults port to 443", "[net][url]") {
  Url url = parseOrFail("https://localhost");
  CHECK(url.host == "localhost");
  CHECK(url.port == 443);
  CHECK(url.path.empty());
  CHECK(url.authority() == "localhost");
  CHECK(url.toString() == "https://localhost");
}

TEST_CASE("url normalises trailing slashes", "[net][url]") {
  CHECK(parseOrFail("https://k1:8443/k1/").path == "/k1");
  CHECK(parseOrFail("https://k1:8443/k1").path == "/k1");
  CHECK(parseOrFail("https://k1:8443/k1//").path == "/k1");
  CHECK(parseOrFail("https://k1:8443/").path.empty());
  CHECK(parseOrFail("https://k1:8443").path.empty());
  CHECK(parseOrFail("https://k1/a/b/").path == "/a/b");
}

TEST_CASE("url lower-cases scheme and host", "[net][url]") {
  Url url = parseOrFail("HTTPS://Keeper-1.Example:8443/K1");
  CHECK(url.host == "keeper-1.example");
  CHECK(url.path == "/K1");
}

TEST_CASE("url accepts IPv4 literals", "[net][url]") {
  Url url = parseOrFail("https://127.0.0.1:8553");
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == 8553);
  CHECK(url.ipHost());
  CHECK_FALSE(url.ipv6Host());
  CHECK(url.authority() == "127.0.0.1:8553");
}

TEST_CASE("url accepts bracketed IPv6 literals", "[net][url]") {
  Url url = parseOrFail("https://[::1]:8443/k2/");
  CHECK(url.host == "::1");
  CHECK(url.port == 8443);
  CHECK(url.path == "/k2");
  CHECK(url.ipHost());
  CHECK(url.ipv6Host());
  CHECK(url.authority() == "[::1]:8443");
  CHECK(url.toString() == "https://[::1]:8443/k2");

  Url noPort = parseOrFail("https://[fd00:10:96::1]");
  CHECK(noPort.host == "fd00:10:96::1");
  CHECK(noPort.port == 443);
  CHECK(noPort.authority() == "[fd00:10:96::1]");
}

TEST_CASE("url accepts port bounds", "[net][url]") {
  CHECK(parseOrFail("https://h:1").port == 1);
  CHECK(parseOrFail("https://h:65535").port == 65535);
  CHECK(parseOrFail("https://h:00443").port == 443);
}

TEST_CASE("url keeps percent-encoded paths", "[net][url]") {
  CHECK(parseOrFail("https://h/a%2Fb/c").path == "/a%2Fb/c");
  CHECK(parseOrFail("https://h/a:b@c/~x-y_z.w!$&'()*+,;=").path == "/a:b@c/~x-y_z.w!$&'()*+,;=");
}

TEST_CASE("url to string round-trips", "[net][url]") {
  for (const char* text : {"https://k1:8443/k1", "https://localhost", "https://[::1]:1/x/y",
                           "https://10.0.0.1:8553"}) {
    Url url = parseOrFail(text);
    CHECK(url.toString() == text);
    CHECK(parseOrFail(url.toString()).toString() == text);
  }
}

TEST_CASE("url rejects invalid input", "[net][url]") {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "expected https://"},
      {"keeper:8443", "expected https://"},
      {"http://keeper:8443", "scheme must be https"},
      {"ftp://keeper", "scheme must be https"},
      {"https://", "missing host"},
      {"https:///k1", "missing host"},
      {"https://:8443", "missing host"},
      {"https://user@keeper", "user information"},
      {"https://user:pw@keeper:8443", "user information"},
      {"https://keeper/k1?x=1", "query"},
      {"https://keeper?x", "query"},
      {"https://keeper/k1#frag", "fragment"},
      {"https://keeper:0", "port must be"},
      {"https://keeper:65536", "port must be"},
      {"https://keeper:99999999999999999999", "port must be"},
      {"https://keeper:-1", "port must be"},
      {"https://keeper:+1", "port must be"},
      {"https://keeper:84a", "port must be"},
      {"https://keeper:", "empty port"},
      {"https://[::1]:", "empty port"},
      {"https://::1", "brackets"},
      {"https://fe80::1:8443", "brackets"},
      {"https://[::1", "closing ']'"},
      {"https://[::1]x", "after the IPv6 address"},
      {"https://[zz::1]", "invalid IPv6"},
      {"https://[127.0.0.1]", "invalid IPv6"},
      {"https://[fe80::1%25eth0]", "zone"},
      {"https://300.1.1.1", "invalid IPv4"},
      {"https://1.2.3", "invalid IPv4"},
      {"https://kee per", "space"},
      {"https://keeper/a b", "space"},
      {" https://keeper", "space"},
      {"https://keeper\n", "control"},
      {"https://kee%70er", "host contains"},
      {"https://keeper,k2", "host contains"},
      {"https://keeper/a\"b", "percent-encoded"},
      {"https://keeper/a%2", "two hex digits"},
      {"https://keeper/a%zz", "two hex digits"},
      {"https://keeper/a/../b", "'..' segment"},
      {"https://keeper/./b", "'..' segment"},
      {"https://keeper/..", "'..' segment"},
  };
  for (const Case& c : cases) {
    auto url = parseHttpsUrl(c.text);
    INFO("input: \"" << c.text << "\"");
    REQUIRE_FALSE(url.ok());
    CHECK(url.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(url.status().message(), Catch::Contains(c.reason));
    CHECK_THAT(url.status().message(), Catch::Contains("invalid URL"));
  }
}

TEST_CASE("url join appends to the base path", "[net][url]") {
  const char* bases[] = {"https://k1:8443/k1", "https://k1:8443/k1/", "https://k1:8443/k1//"};
  for (const char* base : bases) {
    Url joined = joinPath(parseOrFail(base), "/v1/store/contribute");
    CHECK(joined.path == "/k1/v1/store/contribute");
    CHECK(joined.toString() == "https://k1:8443/k1/v1/store/contribute");
  }
}

TEST_CASE("url join on the root path", "[net][url]") {
  CHECK(joinPath(parseOrFail("https://nexus:8553"), "/v1/bootstrap/verify").path ==
        "/v1/bootstrap/verify");
  CHECK(joinPath(parseOrFail("https://nexus:8553/"), "/v1/bootstrap/verify").path ==
        "/v1/bootstrap/verify");
  CHECK(joinPath(parseOrFail("https://nexus:8553/"), "v1/bootstrap/verify").path ==
        "/v1/bootstrap/verify");
}

TEST_CASE("url join keeps host and port", "[net][url]") {
  Url joined = joinPath(parseOrFail("https://[::1]:9443/a"), "b");
  CHECK(joined.host == "::1");
  CHECK(joined.port == 9443);
  CHECK(joined.path == "/a/b");
}

TEST_CASE("url join with an empty path", "[net][url]") {
  CHECK(joinPath(parseOrFail("https://h/a/"), "").path == "/a");
  CHECK(joinPath(parseOrFail("https://h"), "/").path.empty());
}
