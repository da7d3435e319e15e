// CurlTransport: HttpTransport over libcurl.
//
// - Connections are kept alive and reused: each request borrows an idle
//   handle (a curl multi + easy pair, which owns its connection cache) from a
//   pool and returns it when its response stream is destroyed.
// - Response bodies stream with bounded memory: curl's multi interface is
//   driven from Read(), and the transfer is paused while the receive buffer
//   is full, so a slow reader never makes the transport buffer a whole object.
// - TLS verification is always on (system CA store, or `ca_bundle`).
// - Timeouts: a connect timeout and a stall timeout (no progress for that
//   long), never a total timeout, so a large upload on a slow link is fine.
// - URLs are sent as given (CURLOPT_PATH_AS_IS): S3 keys may contain "//",
//   "./" and "../", which curl would otherwise squash.
//
// Thread-safety: Send() may be called from several threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/s3/http_transport.h"

namespace dbbackup::store::s3 {

struct CurlTransportOptions {
  // Time allowed to establish the TCP (and TLS) connection.
  // Default: 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer moving less than 1 byte/s for this long fails with
  // kDeadlineExceeded. Rounded up to whole seconds.
  // Default: 60 s.
  std::chrono::milliseconds stall_timeout{60'000};
  // PEM file of CA certificates to trust instead of the system store.
  // Default: "" (system store).
  std::string ca_bundle;
  // Idle handles (each with its kept-alive connection) retained for reuse.
  // Default: 16.
  size_t max_idle_handles = 16;
  // Bytes of response body buffered ahead of the reader before the transfer
  // pauses.
  // Default: 1 MiB.
  size_t receive_buffer_bytes = 1 << 20;
};

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<std::unique_ptr<HttpResponseStream>> Send(const HttpRequest& request) override;

  // Implementation detail shared with the response stream (curl_transport.cc).
  struct Handle;

 private:
  friend class CurlResponseStream;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  const CurlTransportOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;  // guarded by mu_
};

}  // namespace dbbackup::store::s3
