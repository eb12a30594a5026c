#include <sstream>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "spike_bootstrap/common/log.h"

namespace logging = spike_bootstrap::logging;

TEST_CASE("json payload escapes and keeps numbers raw", "[common][log]") {
  std::string payload = logging::formatPayload(
      logging::Format::kJson, "share \"delivered\"\n", {{"keeper_id", 2}, {"url", "https://k"}});
  CHECK(payload ==
        R"("message":"share \"delivered\"\n","keeper_id":2,"url":"https://k")");
}

TEST_CASE("text payload quotes values with spaces", "[common][log]") {
  std::string payload = logging::formatPayload(logging::Format::kText, "waiting",
                                           {{"socket", "/tmp/a b"}, {"elapsed_s", 10}});
  CHECK(payload == R"(waiting socket="/tmp/a b" elapsed_s=10)");
}

TEST_CASE("json lines carry time level logger and fields", "[common][log]") {
  std::ostringstream out;
  logging::setSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logging::configure(logging::Format::kJson, logging::Level::kInfo);

  logging::Logger logger("log_test");
  logger.debug("hidden");
  logger.info("shown", {{"attempt", 1}});

  std::string line = out.str();
  CHECK(line.find("hidden") == std::string::npos);
  CHECK(line.rfind(R"({"time":")", 0) == 0);
  CHECK(line.find(R"("level":"info","logger":"log_test","message":"shown","attempt":1})") !=
        std::string::npos);
  // The stream dies with this test; later tests in the program must not log into it.
  logging::setSink(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logging::configure(logging::Format::kText, logging::Level::kInfo);
}
