// A TCP proxy on a free loopback port that forwards to a loopback server
// with the client's bytes throttled (the answers are not), and optionally
// stalled after a number of bytes, so a test can catch a long upload in the
// middle: e.g. SIGTERM a daemon while its multipart upload to RGW is under
// way, or SIGKILL a backup whose upload hangs.
//
// Thread-safety: Endpoint and Forwarded may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dbbackup::testing {

class ThrottlingProxy {
 public:
  // Forwards to 127.0.0.1:`upstream_port`, all connections together at most
  // `bytes_per_second` (0: unthrottled) from client to server, and nothing more from the
  // client once `stall_after` bytes have passed (the connections stay open:
  // a request caught in the middle hangs). Check ok() afterwards.
  ThrottlingProxy(int upstream_port, uint64_t bytes_per_second, uint64_t stall_after = UINT64_MAX);
  // Closes every connection and joins the threads.
  ~ThrottlingProxy();
  ThrottlingProxy(const ThrottlingProxy&) = delete;
  ThrottlingProxy& operator=(const ThrottlingProxy&) = delete;

  bool ok() const { return port_ > 0; }
  // "http://127.0.0.1:PORT".
  std::string Endpoint() const;
  // Client-to-server bytes forwarded so far.
  uint64_t Forwarded() const { return forwarded_; }

 private:
  void AcceptLoop();
  void Pump(int client);
  // How many more client bytes the rate allows now.
  uint64_t Allowance() const;

  const int upstream_port_;
  const uint64_t rate_;
  const uint64_t stall_after_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> forwarded_{0};
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// The port of an "http://host:port" endpoint (0 if none).
int PortOfEndpoint(const std::string& endpoint);

}  // namespace dbbackup::testing
