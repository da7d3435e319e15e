// HttpTransport: the one seam between the S3 client and the network. The S3
// client builds fully signed requests; a transport sends them and streams the
// response back. CurlTransport is the real one; tests use a fake that records
// requests and replays canned responses (fake_transport.h).
//
// Thread-safety: Send() may be called concurrently from several threads. Each
// returned HttpResponseStream is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/io.h"
#include "common/status.h"
#include "store/s3/sigv4.h"

namespace dbbackup::store::s3 {

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST", "HEAD", "DELETE"
  // Absolute URL with the path and query already percent-encoded, sent
  // verbatim: transports must not normalize "//" or "." segments.
  std::string url;
  // Sent as given, in order. A transport may add framing headers of its own
  // (Content-Length, User-Agent) but never changes these.
  HeaderList headers;
  // Request body; nullptr for none. Not owned; must outlive Send() and the
  // returned stream. Read from the start exactly once per Send().
  Reader* body = nullptr;
  uint64_t body_length = 0;  // sent as Content-Length when `body` is set
};

// A response whose status and headers have arrived; the body is read through
// the Reader interface. Read() fails with kIOError if the connection drops or
// the body is shorter than its Content-Length. Destroying the stream before
// end of body abandons the rest (and the connection).
class HttpResponseStream : public Reader {
 public:
  virtual int status() const = 0;
  // Response headers with names lower-cased, in arrival order.
  virtual const HeaderList& headers() const = 0;

  // First value of header `name` (give it lower-case), if present.
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request` and returns once the final response's status and headers
  // have arrived (any HTTP status, including 4xx/5xx, is a successful Send).
  // Errors are failures to exchange HTTP at all:
  //  kUnavailable (retryable)     cannot connect (refused, unreachable)
  //  kUnavailable (not retryable) host name does not resolve; TLS failure
  //  kDeadlineExceeded            connect timeout, or no progress for the
  //                               stall timeout
  //  kIOError (retryable)         connection reset / closed mid-exchange
  // Messages name the endpoint ("cannot connect to http://127.0.0.1:9000:
  // Connection refused") and never contain header values.
  virtual Result<std::unique_ptr<HttpResponseStream>> Send(const HttpRequest& request) = 0;
};

// A fully read response, for requests whose answers are small (XML, empty).
struct HttpResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
};

// Sends `request` and reads the whole body (at most `max_body` bytes; more is
// kIOError, so a misbehaving server cannot exhaust memory).
Result<HttpResponse> SendAndReadAll(HttpTransport& transport, const HttpRequest& request,
                                    size_t max_body = 16 << 20);

// "scheme://host[:port]" of a URL, for messages.
std::string UrlOrigin(std::string_view url);

}  // namespace dbbackup::store::s3
