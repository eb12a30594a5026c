#include <catch2/catch.hpp>

#include "spike_bootstrap/app/cli.h"

using spike_bootstrap::StatusCode;
using spike_bootstrap::app::Command;
using spike_bootstrap::app::parseCommandLine;

TEST_CASE("cli parses init spellings", "[app][cli]") {
  for (const char* spelling : {"-init", "--init"}) {
    auto line = parseCommandLine({spelling});
    REQUIRE(line.ok());
    CHECK(line->command == Command::kInit);
  }
}

TEST_CASE("cli parses status with json", "[app][cli]") {
  auto plain = parseCommandLine({"status"});
  REQUIRE(plain.ok());
  CHECK(plain->command == Command::kStatus);
  CHECK_FALSE(plain->json);

  auto json = parseCommandLine({"status", "--json"});
  REQUIRE(json.ok());
  CHECK(json->json);
}

TEST_CASE("cli parses help and version", "[app][cli]") {
  CHECK(parseCommandLine({"--help"})->command == Command::kHelp);
  CHECK(parseCommandLine({"-h"})->command == Command::kHelp);
  CHECK(parseCommandLine({"--version"})->command == Command::kVersion);
}

TEST_CASE("cli rejects empty and unknown input", "[app][cli]") {
  auto empty = parseCommandLine({});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kInvalidArgument);

  auto unknown = parseCommandLine({"--bogus"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("--bogus") != std::string::npos);

  auto jsonOnInit = parseCommandLine({"-init", "--json"});
  REQUIRE_FALSE(jsonOnInit.ok());
  CHECK(jsonOnInit.status().message().find("--json") != std::string::npos);
}
