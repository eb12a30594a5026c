// Calls to SPIKE Nexus: the verification that it rebuilt our root key, and
// the preflight that checks whether it already runs with a root key.
//
// POST <nexus-url>/v1/bootstrap/verify with {"nonce","ciphertext"}; Nexus
// returns 200 {"hash":"<hex sha256 of the plaintext>"} when it could open the
// probe with its root key.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/net/tls_profile.h"

namespace spike_bootstrap::spike {

inline constexpr std::string_view kVerifyPath = "/v1/bootstrap/verify";

struct VerifySettings {
  std::chrono::nanoseconds timeout = std::chrono::minutes(30);  // 0 means no limit
  std::chrono::nanoseconds initialInterval = std::chrono::milliseconds(500);
  std::chrono::nanoseconds maxInterval = std::chrono::seconds(60);
  std::chrono::nanoseconds attemptTimeout = std::chrono::seconds(10);
};

enum class VerifyResult {
  kVerified,      // Nexus returned the hash of our plaintext
  kHashMismatch,  // Nexus opened the probe but has another key (final)
  kFailed,        // gave up: timeout, 401, unreadable response, cancelled
};

struct VerifyOutcome {
  VerifyResult result = VerifyResult::kFailed;
  int attempts = 0;
  Status lastError;  // OK when verified
};

// Posts the probe until Nexus responds or settings.timeout passes. Refused
// connections, timeouts, 503 and other 5xx responses mean Nexus is not ready
// yet and are retried with backoff; 401 and a server that is not Nexus end
// the verification at once. profile must outlive the call.
boost::asio::awaitable<VerifyOutcome> verifyRootKey(std::string nexusUrl,
                                                    crypto::SealedProbe probe,
                                                    const net::TlsClientProfile& profile,
                                                    VerifySettings settings);

// The preflight's conclusion about SPIKE Nexus.
enum class NexusState {
  // Nothing is serving: connection refused, name not resolvable, timeout or
  // TLS failure before the handshake completed, or 503. Safe to bootstrap.
  kNotServing,
  // Nexus sent an HTTP response other than 503, which it only does once it
  // has a root key.
  kHasRootKey,
  // The TLS handshake with a Nexus identity completed but no HTTP response
  // came. A Nexus runs, but whether it has a key is unknown.
  kUndetermined,
  // The server's SPIFFE ID is not a Nexus ID, so verification could never
  // succeed.
  kNotNexus,
};

struct NexusPreflight {
  NexusState state = NexusState::kNotServing;
  int httpStatus = 0;    // 0 when no response came
  std::string observed;  // what happened, for the log
};

// Sends one verify request with a probe sealed under a random throw-away key,
// bounded by timeout, and classifies what happened (see NexusState). profile
// must outlive the call.
boost::asio::awaitable<NexusPreflight> preflightNexus(std::string nexusUrl,
                                                      const net::TlsClientProfile& profile,
                                                      std::chrono::nanoseconds timeout);

}  // namespace spike_bootstrap::spike
