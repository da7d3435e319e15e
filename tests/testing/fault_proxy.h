// FaultProxy: an HTTP/1.1 proxy on 127.0.0.1 in front of a real S3 server
// (RGW, moto) that misbehaves on purpose, for resilience tests of the S3
// client through the real network stack.
//
// For each request it decides, from a seeded generator (the same seed gives
// the same sequence of decisions), to forward it untouched or to:
//   k500           answer 500 InternalError (S3 XML body), not forwarded
//   k503           answer 503 SlowDown (S3 XML body), not forwarded
//   kResetRequest  read half the request body, then reset the connection
//   kResetResponse forward, then reset after half the server's response
//   kStall         read the request, then answer nothing until the client
//                  gives up (its stall timeout) or the proxy stops
// A test can also answer requests itself (Intercept) before faults apply, to
// emulate server behaviour the real server cannot produce (a wrong-region
// redirect, a skewed clock).
//
//   FaultProxy proxy(env.rgw_owner.endpoint, {.seed = 7, .fault_share = 0.3});
//   box.Set("S3_ENDPOINT_URL", proxy.Endpoint());
//   ... run dbbackup ...
//   EXPECT_GT(proxy.Count(FaultProxy::Fault::k503), 0);
//
// The Host header is forwarded verbatim, so SigV4 signatures made for the
// proxy's address verify at the server. Upstream connections are not reused
// (each forwarded request opens one); client connections are kept alive.
// Loopback only.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace dbbackup::testing {

class FaultProxy {
 public:
  enum class Fault { kNone, k500, k503, kResetRequest, kResetResponse, kStall };

  struct Options {
    // Seeds the decisions.
    uint64_t seed = 1;
    // Share of requests (0..1) that get a fault. The seeded generator picks
    // which requests; the faults take turns in the order of `faults`.
    double fault_share = 0;
    std::vector<Fault> faults = {Fault::k500, Fault::k503, Fault::kResetRequest,
                                 Fault::kResetResponse, Fault::kStall};
    // At most this many faults in all; -1 for no limit.
    int max_faults = -1;
  };

  // One request as the proxy saw it.
  struct Request {
    std::string method;
    std::string target;                          // path and query, as sent
    std::map<std::string, std::string> headers;  // names lower-cased
  };
  // Called with each request's head (before its body is read). Returns a
  // complete raw HTTP response to send instead of forwarding, or nullopt to
  // go on (faults, then the server).
  using Interceptor = std::function<std::optional<std::string>(const Request&)>;

  // Listens on 127.0.0.1 (a free port) and forwards to `upstream`
  // ("http://127.0.0.1:PORT").
  FaultProxy(const std::string& upstream, Options options);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "http://127.0.0.1:PORT" of the proxy.
  std::string Endpoint() const;

  void SetInterceptor(Interceptor interceptor);
  // Changes the share of faulty requests from now on.
  void SetFaultShare(double share);

  // Requests seen, and how many got `fault` (kNone: forwarded untouched).
  int Seen() const { return seen_; }
  int Count(Fault fault) const;
  // "METHOD TARGET" of every request seen, in arrival order.
  std::vector<std::string> Log() const;
  // What each request got, in the order the decisions were made.
  struct Decision {
    std::string request;  // "METHOD TARGET"
    Fault fault = Fault::kNone;
    bool operator==(const Decision&) const = default;
  };
  std::vector<Decision> Decisions() const;

  // A raw S3 error response ("HTTP/1.1 STATUS ...", XML body).
  static std::string ErrorResponse(
      int status, const std::string& code,
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& extra_xml = "");

 private:
  void AcceptLoop();
  void Serve(int fd);
  Fault Decide();
  // Forwards the request; returns the server's whole response ("" on failure).
  std::string Forward(const std::string& head, const std::string& body);
  // Blocks until the client closes `fd` or the proxy stops.
  void WaitForClose(int fd);

  const std::string upstream_host_;
  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> seen_{0};
  std::thread acceptor_;

  mutable std::mutex mu_;
  Options options_;                  // guarded by mu_
  std::mt19937_64 rng_;              // guarded by mu_
  Interceptor interceptor_;          // guarded by mu_
  std::map<Fault, int> counts_;      // guarded by mu_
  int injected_ = 0;                 // guarded by mu_
  std::vector<std::string> log_;     // guarded by mu_
  std::vector<Decision> decisions_;  // guarded by mu_
  std::vector<int> conn_fds_;        // guarded by mu_
  std::vector<std::thread> conns_;   // guarded by mu_
};

}  // namespace dbbackup::testing
