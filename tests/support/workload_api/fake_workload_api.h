// FakeWorkloadApi: a real gRPC server on a Unix socket that speaks the SPIFFE
// Workload API's FetchX509SVID the way a SPIRE agent does.
//
// Tests script it: which update to stream, when the socket appears, how many
// calls to reject with PermissionDenied or another error, when to push a
// rotation or end the open streams. Like SPIRE, it rejects calls without the
// "workload.spiffe.io: true" metadata header with InvalidArgument and counts
// them, so a test can prove the client sends the header.
//
// All methods are thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

// One SVID as the agent streams it.
struct FakeSvid {
  std::string spiffeId;
  Der chainDer;   // leaf first
  Der keyDer;     // PKCS#8
  Der bundleDer;  // CA certificates of the SVID's trust domain
  std::string hint;

  // Builds the SVID for cert, with bundle as its trust domain's CAs.
  static FakeSvid of(const TestCert& cert, Der bundle);
  // Builds the SVID for cert with the root of ca as the bundle.
  static FakeSvid of(const TestCert& cert, const TestCa& ca);
};

// One X509SVIDResponse.
struct FakeX509Update {
  std::vector<FakeSvid> svids;
  // Keys are trust domain IDs such as "spiffe://other.org".
  std::map<std::string, Der> federatedBundles;
};

// Counters of what the fake has seen.
struct FakeWorkloadApiStats {
  int calls = 0;               // FetchX509SVID calls received
  int callsWithoutHeader = 0;  // of those, calls lacking the metadata header
  int updatesSent = 0;         // responses written to all streams
  int openStreams = 0;         // streams being served now
};

class FakeWorkloadApi {
 public:
  // Prepares a server for socketPath; nothing listens until start().
  explicit FakeWorkloadApi(std::string socketPath);
  // Shuts the server down.
  ~FakeWorkloadApi();
  FakeWorkloadApi(const FakeWorkloadApi&) = delete;
  FakeWorkloadApi& operator=(const FakeWorkloadApi&) = delete;

  // Binds the socket and serves from now on.
  void start();
  // Starts on a background thread after delay, for late-socket tests.
  void startAfter(std::chrono::milliseconds delay);
  // Stops serving: open streams end with Unavailable and the socket file is
  // removed, as when the agent dies. Returns within about a second.
  void shutdown();

  // Sets the update every stream sends, and pushes it to open streams.
  // Calls arriving before the first update wait for it, as streams do.
  void setUpdate(FakeX509Update update);
  // Fails the next count calls with PermissionDenied "no identity issued",
  // as SPIRE does while the workload has no registration entry.
  void denyNextCalls(int count);
  // Fails the next count calls with the given gRPC code (an int holding a
  // grpc::StatusCode, so this header needs no gRPC include) and message.
  void failNextCalls(int count, int grpcCode, std::string message);
  // Ends every open stream with OK, as an agent restart would.
  void endStreams();
  // Whether calls without the metadata header are rejected (default: yes).
  void setRequireHeader(bool require);

  FakeWorkloadApiStats stats() const;
  // Waits until at least count calls arrived; false when timeout passed.
  bool waitForCalls(int count, std::chrono::milliseconds timeout) const;

  const std::string& socketPath() const;

 private:
  class Service;
  std::unique_ptr<Service> service_;
};

}  // namespace spike_bootstrap::testing
