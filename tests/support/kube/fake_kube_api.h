// FakeKubeApi: a fake Kubernetes API server over real HTTPS, for the kube
// client's tests, the run's integration tests and demos.
//
// It serves core/v1 ConfigMaps (get, create, update, merge patch, delete) and
// Events (create) from memory. It has the semantics the client relies on:
// bearer-token authentication, a resourceVersion that changes on every write,
// 409 AlreadyExists and 409 Conflict. Error bodies are Status objects shaped
// like the real API server's. Tests can seed and read objects, rotate the token, and
// inject faults per verb and resource (403, 429, 5xx, slow responses, dropped
// connections, redirects). Its certificate comes from its own cluster CA, with
// IP SANs 127.0.0.1 and ::1 and DNS SANs localhost and kubernetes.default.svc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/kube/configmap.h"
#include "spike_bootstrap/kube/in_cluster.h"
#include "support/https/test_https_server.h"
#include "support/kube/service_account_dir.h"
#include "support/pki/test_pki.h"

namespace spike_bootstrap::testing {

// A fault injected into matching requests. Empty verb or resource match any.
struct KubeFault {
  enum class Action {
    kRespond,           // respond with status and a Status body (and Retry-After, Location)
    kDelay,             // wait for delay, then respond normally
    kDrop,              // close the connection without a response
    kHang,              // never answer
    kApplyThenDrop,     // apply the request, then close without a response
    kApplyThenRespond,  // apply the request, then respond with status
  };

  std::string verb;      // get, list, create, update, patch, delete
  std::string resource;  // configmaps, events
  Action action = Action::kRespond;
  int status = 500;
  std::chrono::milliseconds delay{0};
  std::optional<int> retryAfterSeconds;
  std::string location;  // Location header for a 3xx status
  // How many matching requests this fault affects; -1 for every one.
  int times = -1;

  // Responds to matching requests with status and a Status body.
  static KubeFault respond(std::string verb, int status, int times = -1);
  // Takes action on matching requests.
  static KubeFault act(std::string verb, Action action, int times = -1);
};

// One request as the fake understood it.
struct KubeCall {
  std::string method;
  std::string path;
  std::string verb;
  std::string resource;
  std::string namespaceName;
  std::string name;
  std::string token;  // the bearer token sent, "" without one
  std::string contentType;
  std::string body;
  int status = 0;  // the response status, 0 when the connection was dropped or hung
};

// A stored Event, reduced to what tests check.
struct StoredEvent {
  std::string namespaceName;
  std::string name;
  std::string type;
  std::string reason;
  std::string message;
  std::string involvedKind;
  std::string involvedName;
  std::string involvedNamespace;
  std::string json;
};

struct FakeKubeApiOptions {
  std::string namespaceName = "spike";
  std::string serviceAccountName = "spike-bootstrap";
  // "127.0.0.1" or "::1".
  std::string address = "127.0.0.1";
};

// Thread rule: the public methods may be called from any thread; requests
// are served on the server's own thread. The fake starts serving in the
// constructor and stops in the destructor.
class FakeKubeApi {
 public:
  explicit FakeKubeApi(FakeKubeApiOptions options = {});
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  // Where the client finds the server, as KUBERNETES_SERVICE_HOST/PORT carry it.
  std::string host() const { return options_.address; }
  std::string port() const;
  const std::string& namespaceName() const { return options_.namespaceName; }
  // The cluster CA that signs the server certificate.
  const TestCa& clusterCa() const { return clusterCa_; }
  // A ServiceAccount directory holding the current token, ca.crt and namespace.
  const ServiceAccountDir& serviceAccountDir() const { return *serviceAccountDir_; }
  // Loads the client's config from host(), port() and serviceAccountDir().
  kube::InClusterConfig inClusterConfig() const;

  // The token the server accepts now.
  std::string token() const;
  // Issues a new token, writes it to the ServiceAccount directory and stops
  // accepting the old one, as when a bound token expires.
  void rotateToken();
  // Makes the server accept token as well as the current one.
  void acceptToken(std::string token);

  // Creates or replaces a ConfigMap in namespaceName(); returns its new
  // resourceVersion.
  std::string seedConfigMap(const std::string& name, const kube::ConfigMapData& data);
  // Returns a stored ConfigMap, or nullopt.
  std::optional<kube::ConfigMap> configMap(const std::string& name) const;
  void deleteConfigMap(const std::string& name);
  std::vector<StoredEvent> events() const;

  void addFault(KubeFault fault);
  void clearFaults();

  std::vector<KubeCall> calls() const;
  // Counts calls with this verb and resource ("" matches any).
  std::size_t callCount(const std::string& verb, const std::string& resource = "") const;
  // Errors the HTTPS server hit outside a connection, such as a handler exception.
  std::vector<std::string> serverErrors() const;

 private:
  struct StoredObject {
    std::string json;  // the whole object as it is served
  };

  ServerReply handle(const ReceivedRequest& request);
  ServerReply serve(const KubeCall& call);
  ServerReply getConfigMap(const KubeCall& call);
  ServerReply createConfigMap(const KubeCall& call);
  ServerReply updateConfigMap(const KubeCall& call);
  ServerReply patchConfigMap(const KubeCall& call);
  ServerReply deleteConfigMapCall(const KubeCall& call);
  ServerReply createEvent(const KubeCall& call);
  std::optional<KubeFault> takeFault(const KubeCall& call);
  std::string nextResourceVersion();
  std::string storeObject(const std::string& name, std::string json);

  FakeKubeApiOptions options_;
  TestCa clusterCa_;
  std::unique_ptr<ServiceAccountDir> serviceAccountDir_;

  mutable std::mutex mutex_;
  std::vector<std::string> acceptedTokens_;
  std::string currentToken_;
  int tokenGeneration_ = 0;
  std::uint64_t resourceVersion_ = 1000;
  std::uint64_t uidCounter_ = 0;
  std::map<std::string, StoredObject> configMaps_;
  std::vector<StoredEvent> events_;
  std::vector<KubeFault> faults_;
  std::vector<KubeCall> calls_;

  // Last, so the server stops before the state it reads is destroyed.
  std::unique_ptr<TestHttpsServer> server_;
};

}  // namespace spike_bootstrap::testing
