#include "store/s3/curl_transport.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/strings.h"

namespace dbbackup::store::s3 {

struct CurlTransport::Handle {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  // The sockets of this handle's connections (its multi's cache), tracked
  // because CURLINFO_ACTIVESOCKET is not set until a transfer ends.
  std::vector<curl_socket_t> sockets;
  ~Handle() {
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
  }
};

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Maps a libcurl failure to the transport's documented error codes. The
// message names the endpoint and curl's explanation, never request headers.
Status CurlError(CURLcode code, const std::string& url, const char* errbuf) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  const std::string origin = UrlOrigin(url);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return {StatusCode::kUnavailable, "cannot connect to " + origin + ": " + detail, true};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {StatusCode::kUnavailable, "cannot resolve the host name of " + origin + ": " + detail,
              false};
    case CURLE_OPERATION_TIMEDOUT:
      return {StatusCode::kDeadlineExceeded, "timed out talking to " + origin + ": " + detail,
              true};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return {StatusCode::kUnavailable,
              "TLS connection to " + origin + " failed: " + detail +
                  " (check the server's certificate, the CA bundle (BACKUP_S3_CA_BUNDLE), and that "
                  "the endpoint speaks https)",
              false};
    case CURLE_PARTIAL_FILE:
      return {StatusCode::kIOError, "response from " + origin + " truncated: " + detail, true};
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    // A kept-alive connection died under an upload and curl cannot resend the
    // body itself; the client resends it.
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_GOT_NOTHING:
      return {StatusCode::kIOError, "connection to " + origin + " lost: " + detail, true};
    default:
      return {
          StatusCode::kIOError,
          "HTTP request to " + origin + " failed (curl " + std::to_string(code) + "): " + detail,
          false};
  }
}

// Acknowledges what the server sent so far without waiting for the delayed-
// ACK timer. Servers that write a response's head and body separately with
// Nagle's algorithm on (Ceph RGW's beast frontend by default) hold a small
// body until the head is acknowledged, and Linux delays that ACK by 40 ms or
// more once a connection looks interactive (one request right after another
// response). That stalled every CreateMultipartUpload and
// CompleteMultipartUpload on RGW by 40 ms (80 of the 250 ms a 31 MB upload
// took); TCP_QUICKACK on the status line sends the pending ACK at once.
//
// One transfer runs on a handle at a time, so the pending ACK is on one of
// its sockets; on the others (idle, if any) the option does nothing.
void AcknowledgeNow(const std::vector<curl_socket_t>& sockets) {
#ifdef TCP_QUICKACK
  for (curl_socket_t fd : sockets) {
    int one = 1;
    // Best effort: a failure costs only the delay this avoids.
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
#else
  (void)sockets;
#endif
}

int OnSocketOpened(void* handle, curl_socket_t fd, curlsocktype /*purpose*/) {
  static_cast<CurlTransport::Handle*>(handle)->sockets.push_back(fd);
  return CURL_SOCKOPT_OK;
}

int OnSocketClose(void* handle, curl_socket_t fd) {
  auto& sockets = static_cast<CurlTransport::Handle*>(handle)->sockets;
  sockets.erase(std::remove(sockets.begin(), sockets.end(), fd), sockets.end());
  return close(fd);
}

}  // namespace

// One in-flight request. Lives from Send() until the caller drops the stream;
// the handle goes back to the pool then.
class CurlResponseStream : public HttpResponseStream {
 public:
  CurlResponseStream(CurlTransport* owner, std::unique_ptr<CurlTransport::Handle> handle,
                     const HttpRequest& request, size_t buffer_limit)
      : owner_(owner),
        handle_(std::move(handle)),
        url_(request.url),
        body_(request.body),
        is_head_(request.method == "HEAD"),
        buffer_limit_(std::max<size_t>(buffer_limit, CURL_MAX_WRITE_SIZE)) {
    errbuf_[0] = '\0';
  }

  ~CurlResponseStream() override {
    if (added_) curl_multi_remove_handle(handle_->multi, handle_->easy);
    if (headers_list_) curl_slist_free_all(headers_list_);
    owner_->Release(std::move(handle_));
  }

  Status Start(const HttpRequest& request, const CurlTransportOptions& options);

  int status() const override { return status_; }
  const HeaderList& headers() const override { return headers_; }

  Result<size_t> Read(void* buf, size_t n) override {
    if (n == 0) return size_t{0};
    DBB_RETURN_IF_ERROR(Pump([this] { return pos_ < buffer_.size(); }));
    if (pos_ == buffer_.size()) {
      if (!result_status_.ok()) return result_status_;
      if (!is_head_ && content_length_ && received_ < *content_length_) {
        return Status(StatusCode::kIOError,
                      "response from " + UrlOrigin(url_) + " truncated: got " +
                          std::to_string(received_) + " of " + std::to_string(*content_length_) +
                          " bytes",
                      true);
      }
      return size_t{0};
    }
    size_t k = std::min(n, buffer_.size() - pos_);
    std::memcpy(buf, buffer_.data() + pos_, k);
    pos_ += k;
    if (pos_ == buffer_.size()) {
      buffer_.clear();
      pos_ = 0;
    }
    return k;
  }

 private:
  // Drives the transfer until `ready()` or the transfer ends. A transport
  // error ends the transfer; it is reported by the caller at the right point
  // (Send before headers, Read after the buffered bytes).
  template <typename Ready>
  Status Pump(Ready ready) {
    while (!ready() && !done_) {
      if (paused_ && buffer_.size() - pos_ < buffer_limit_) {
        paused_ = false;
        curl_easy_pause(handle_->easy, CURLPAUSE_CONT);
        continue;  // the unpause may have delivered data already
      }
      int running = 0;
      CURLMcode mc = curl_multi_perform(handle_->multi, &running);
      if (mc != CURLM_OK) {
        return Status::IOError(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(handle_->multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        done_ = true;
        CURLcode code = msg->data.result;
        if (code == CURLE_ABORTED_BY_CALLBACK || code == CURLE_READ_ERROR) {
          result_status_ = body_status_.ok() ? CurlError(code, url_, errbuf_) : body_status_;
        } else if (code != CURLE_OK) {
          result_status_ = CurlError(code, url_, errbuf_);
        }
      }
      if (ready() || done_) break;
      mc = curl_multi_poll(handle_->multi, nullptr, 0, 1000, nullptr);
      if (mc != CURLM_OK) {
        return Status::IOError(std::string("curl_multi_poll: ") + curl_multi_strerror(mc));
      }
    }
    return Status::OK();
  }

  static size_t OnHeader(char* data, size_t size, size_t nitems, void* self_ptr) {
    auto* self = static_cast<CurlResponseStream*>(self_ptr);
    size_t len = size * nitems;
    std::string_view line(data, len);
    if (line.starts_with("HTTP/")) {
      AcknowledgeNow(self->handle_->sockets);
      // A new response begins (after a 100 Continue, say): start afresh.
      self->headers_.clear();
      self->content_length_.reset();
      size_t sp = line.find(' ');
      self->status_ =
          sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
      return len;
    }
    if (line == "\r\n" || line == "\n") {
      if (self->status_ >= 200) self->headers_done_ = true;
      return len;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return len;
    std::string name = AsciiLower(line.substr(0, colon));
    std::string value(TrimWhitespace(line.substr(colon + 1)));
    if (name == "content-length") {
      self->content_length_ = std::strtoull(value.c_str(), nullptr, 10);
    }
    self->headers_.emplace_back(std::move(name), std::move(value));
    return len;
  }

  static size_t OnWrite(char* data, size_t size, size_t nmemb, void* self_ptr) {
    auto* self = static_cast<CurlResponseStream*>(self_ptr);
    size_t len = size * nmemb;
    if (self->buffer_.size() - self->pos_ >= self->buffer_limit_) {
      // Full: curl keeps this chunk and re-delivers it after the unpause.
      self->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;
    }
    self->buffer_.append(data, len);
    self->received_ += len;
    return len;
  }

  static size_t OnRead(char* out, size_t size, size_t nitems, void* self_ptr) {
    auto* self = static_cast<CurlResponseStream*>(self_ptr);
    if (self->body_ == nullptr) return 0;
    Result<size_t> n = self->body_->Read(out, size * nitems);
    if (!n.ok()) {
      self->body_status_ = n.status().Annotate("reading the request body");
      return CURL_READFUNC_ABORT;
    }
    return *n;
  }

  CurlTransport* owner_;
  std::unique_ptr<CurlTransport::Handle> handle_;
  std::string url_;
  Reader* body_;
  const bool is_head_;
  const size_t buffer_limit_;
  curl_slist* headers_list_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE];
  bool added_ = false;

  int status_ = 0;
  HeaderList headers_;
  bool headers_done_ = false;
  std::optional<uint64_t> content_length_;
  std::string buffer_;
  size_t pos_ = 0;
  uint64_t received_ = 0;
  bool paused_ = false;
  bool done_ = false;
  Status result_status_;
  Status body_status_;
};

Status CurlResponseStream::Start(const HttpRequest& request, const CurlTransportOptions& options) {
  CURL* e = handle_->easy;
  // Reset keeps the live connection; everything else is set afresh.
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_bundle.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  long stall_s = static_cast<long>((options.stall_timeout.count() + 999) / 1000);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, std::max(1L, stall_s));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, &OnSocketOpened);
  curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, handle_.get());
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &OnSocketClose);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, handle_.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlResponseStream::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlResponseStream::OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);

  if (request.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    // Every other method goes out as an upload with an exact length (0 when
    // there is no body), so curl never switches to chunked encoding.
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &CurlResponseStream::OnRead);
    curl_easy_setopt(e, CURLOPT_READDATA, this);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.body ? request.body_length : 0));
  }

  for (const auto& [name, value] : request.headers) {
    // "Name;" is curl's way to send a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    headers_list_ = curl_slist_append(headers_list_, line.c_str());
  }
  // S3 handles 100-continue, but the extra round trip only costs time here.
  headers_list_ = curl_slist_append(headers_list_, "Expect:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_list_);

  CURLMcode mc = curl_multi_add_handle(handle_->multi, e);
  if (mc != CURLM_OK) {
    return Status::IOError(std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc));
  }
  added_ = true;
  DBB_RETURN_IF_ERROR(Pump([this] { return headers_done_; }));
  if (!headers_done_) {
    if (!result_status_.ok()) return result_status_;
    return Status(StatusCode::kIOError,
                  "connection to " + UrlOrigin(url_) + " closed before a response arrived", true);
  }
  return Status::OK();
}

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  GlobalInitOnce();
}

CurlTransport::~CurlTransport() = default;

std::unique_ptr<CurlTransport::Handle> CurlTransport::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->multi = curl_multi_init();
  h->easy = curl_easy_init();
  if (h->multi == nullptr || h->easy == nullptr) return nullptr;
  return h;
}

void CurlTransport::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(handle));
}

Result<std::unique_ptr<HttpResponseStream>> CurlTransport::Send(const HttpRequest& request) {
  std::unique_ptr<Handle> handle = Acquire();
  if (handle == nullptr) return Status::IOError("cannot allocate a curl handle");
  auto stream = std::make_unique<CurlResponseStream>(this, std::move(handle), request,
                                                     options_.receive_buffer_bytes);
  DBB_RETURN_IF_ERROR(stream->Start(request, options_));
  return std::unique_ptr<HttpResponseStream>(std::move(stream));
}

}  // namespace dbbackup::store::s3
