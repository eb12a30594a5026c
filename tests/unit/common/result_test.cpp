#include <catch2/catch.hpp>

#include "spike_bootstrap/common/result.h"

using spike_bootstrap::Result;
using spike_bootstrap::Status;
using spike_bootstrap::StatusCode;

TEST_CASE("status retryable codes", "[common]") {
  CHECK(Status(StatusCode::kUnavailable, "x").retryable());
  CHECK(Status(StatusCode::kDeadlineExceeded, "x").retryable());
  CHECK(Status(StatusCode::kResourceExhausted, "x").retryable());
  CHECK_FALSE(Status(StatusCode::kPermissionDenied, "x").retryable());
  CHECK_FALSE(Status(StatusCode::kInvalidArgument, "x").retryable());
  CHECK_FALSE(Status().retryable());
}

TEST_CASE("status context prefixes the message", "[common]") {
  Status status = Status(StatusCode::kUnavailable, "connection refused")
                      .withContext("keeper 2 (https://k2:8443)");
  CHECK(status.message() == "keeper 2 (https://k2:8443): connection refused");
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.toString() == "Unavailable: keeper 2 (https://k2:8443): connection refused");
}

TEST_CASE("result holds a value or a failure", "[common]") {
  Result<int> value = 7;
  REQUIRE(value.ok());
  CHECK(*value == 7);
  CHECK(value.status().ok());

  Result<int> failure = Status(StatusCode::kNotFound, "missing");
  REQUIRE_FALSE(failure.ok());
  CHECK(failure.status().code() == StatusCode::kNotFound);
}

TEST_CASE("result from ok status becomes internal error", "[common]") {
  Result<int> result = Status();
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInternal);
}
