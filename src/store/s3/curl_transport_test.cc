// CurlTransport against a scripted HTTP/1.1 server on 127.0.0.1 inside this
// process: wire shape of requests, keep-alive reuse, streaming, truncation,
// refused connections and the stall timeout. Loopback only.
#include "store/s3/curl_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dbbackup::store::s3 {
namespace {

struct SeenRequest {
  std::string head;  // request line and headers
  std::string body;
};

// What the server does with one request: write `response`, then optionally
// stall or close.
struct Reply {
  std::string response;
  bool close_after = false;
  std::chrono::milliseconds stall{0};
  // If set, write the first `ack_split` bytes, wait until the client has
  // acknowledged them, then write the rest: the way a server with Nagle's
  // algorithm on sends a head and a small body written separately.
  size_t ack_split = 0;
};

class TinyServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  // `greeting`, if any, is written as soon as a connection is accepted and
  // the connection closed (a server that does not speak the client's
  // protocol).
  explicit TinyServer(Handler handler, std::string greeting = "")
      : handler_(std::move(handler)), greeting_(std::move(greeting)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~TinyServer() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    for (auto& t : conns_) t.join();
    for (int fd : conn_fds_) close(fd);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_; }
  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  // How long each `ack_split` reply waited for the client's ACK.
  std::vector<std::chrono::milliseconds> ack_waits() {
    std::lock_guard<std::mutex> lock(mu_);
    return ack_waits_;
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      std::lock_guard<std::mutex> lock(mu_);
      conn_fds_.push_back(fd);
      conns_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    if (!greeting_.empty()) {
      EXPECT_GT(write(fd, greeting_.data(), greeting_.size()), 0);
      return Close(fd);
    }
    std::string buf;
    char tmp[65536];
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0) return Close(fd);
        buf.append(tmp, n);
      }
      SeenRequest req{buf.substr(0, end + 2), ""};
      buf.erase(0, end + 4);
      size_t length = 0;
      if (size_t cl = req.head.find("Content-Length: "); cl != std::string::npos) {
        length = std::stoul(req.head.substr(cl + 16));
      }
      while (buf.size() < length) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0) return Close(fd);
        buf.append(tmp, n);
      }
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(req);
      }
      Reply reply = handler_(req);
      size_t off = 0;
      if (reply.ack_split > 0) {
        if (!WriteAll(fd, std::string_view(reply.response).substr(0, reply.ack_split))) {
          return Close(fd);
        }
        off = reply.ack_split;
        RecordAckWait(fd);
      }
      for (; off < reply.response.size();) {
        ssize_t n = write(fd, reply.response.data() + off, reply.response.size() - off);
        if (n <= 0) return Close(fd);
        off += n;
      }
      if (reply.stall.count() > 0) std::this_thread::sleep_for(reply.stall);
      if (reply.close_after) return Close(fd);
    }
  }

  void Close(int fd) { shutdown(fd, SHUT_RDWR); }

  static bool WriteAll(int fd, std::string_view data) {
    for (size_t off = 0; off < data.size();) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n <= 0) return false;
      off += n;
    }
    return true;
  }

  // Waits (up to 2 s) until nothing written on `fd` is unacknowledged and
  // records how long that took.
  void RecordAckWait(int fd) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(2);
    int unacked = 1;
    while (ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    std::lock_guard<std::mutex> lock(mu_);
    ack_waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start));
  }

  Handler handler_;
  const std::string greeting_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conn_fds_;                         // guarded by mu_
  std::vector<std::thread> conns_;                    // guarded by mu_
  std::vector<SeenRequest> seen_;                     // guarded by mu_
  std::vector<std::chrono::milliseconds> ack_waits_;  // guarded by mu_
};

std::string Response(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

TEST(CurlTransport, SendsPathAsIsHeadersAndBody) {
  TinyServer server([](const SeenRequest&) {
    return Reply{Response(200, "answer", "ETag: \"e\"\r\nX-Amz-Meta-Db: main\r\n")};
  });
  CurlTransport t({});
  StringReader body("hello");
  HttpRequest req{"PUT", server.Url("/b/a%20b//./c/../d?x=%2F1"), {{"x-test", "v  1"}}, &body, 5};
  auto res = SendAndReadAll(t, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "answer");
  EXPECT_EQ(res->Header("etag"), "\"e\"");
  EXPECT_EQ(res->Header("x-amz-meta-db"), "main");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].head.starts_with("PUT /b/a%20b//./c/../d?x=%2F1 HTTP/1.1\r\n"))
      << seen[0].head;
  EXPECT_NE(seen[0].head.find("x-test: v  1\r\n"), std::string::npos) << seen[0].head;
  EXPECT_NE(seen[0].head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(seen[0].head.find("Expect:"), std::string::npos);
  EXPECT_EQ(seen[0].body, "hello");
}

TEST(CurlTransport, ReusesTheConnection) {
  TinyServer server([](const SeenRequest&) { return Reply{Response(200, "ok")}; });
  CurlTransport t({});
  for (int i = 0; i < 3; ++i) {
    auto res = SendAndReadAll(t, HttpRequest{"GET", server.Url("/k"), {}, nullptr, 0});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }
  auto res = SendAndReadAll(t, HttpRequest{"HEAD", server.Url("/k"), {}, nullptr, 0});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(server.accepted(), 1);
}

// Ceph RGW writes a response's head and its small XML body separately with
// Nagle's algorithm on, so the body waits for the head's ACK. Linux delays
// that ACK by at least 40 ms on a connection that looks interactive (each
// request sent right after the previous response), which stalled every
// CreateMultipartUpload and CompleteMultipartUpload. The client acknowledges
// the head as soon as it reads it.
TEST(CurlTransport, AcknowledgesTheResponseHeadAtOnce) {
  const std::string body = "<InitiateMultipartUploadResult/>";
  const std::string response = Response(200, body);
  TinyServer server([&](const SeenRequest&) {
    Reply r{response};
    r.ack_split = response.size() - body.size();
    return r;
  });
  CurlTransport t({});
  constexpr int kRequests = 6;
  for (int i = 0; i < kRequests; ++i) {
    auto res = SendAndReadAll(t, HttpRequest{"POST", server.Url("/k?uploads"), {}, nullptr, 0});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->body, body);
  }
  EXPECT_EQ(server.accepted(), 1);
  std::vector<std::chrono::milliseconds> waits = server.ack_waits();
  ASSERT_EQ(waits.size(), static_cast<size_t>(kRequests));
  // Delayed ACKs take 40 ms or more; the median keeps one request that lost
  // its CPU on a busy machine from failing the test.
  std::sort(waits.begin(), waits.end());
  EXPECT_LT(waits[kRequests / 2], std::chrono::milliseconds(20))
      << "median wait for the ACK of the response head: " << waits[kRequests / 2].count() << " ms";
}

int OpenFdCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// The transport tracks its sockets for the ACK above and closes them itself;
// none may outlive it, including those of connections the server dropped.
TEST(CurlTransport, ClosesEverySocketItOpened) {
  const int before = OpenFdCount();
  {
    int calls = 0;
    TinyServer server([&](const SeenRequest&) {
      return Reply{Response(200, "ok"), ++calls % 2 == 0};
    });
    {
      CurlTransport t({});
      for (int i = 0; i < 5; ++i) {
        auto res = SendAndReadAll(t, HttpRequest{"GET", server.Url("/k"), {}, nullptr, 0});
        ASSERT_TRUE(res.ok()) << res.status().ToString();
      }
    }
    EXPECT_GE(server.accepted(), 3);
  }
  EXPECT_EQ(OpenFdCount(), before);
}

TEST(CurlTransport, HeadIgnoresContentLength) {
  TinyServer server(
      [](const SeenRequest&) { return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"}; });
  CurlTransport t({});
  auto res = SendAndReadAll(t, HttpRequest{"HEAD", server.Url("/k"), {}, nullptr, 0});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->Header("content-length"), "1234");
}

TEST(CurlTransport, StreamsALargeBodyThroughASmallBuffer) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  TinyServer server([&](const SeenRequest&) { return Reply{Response(200, big)}; });
  CurlTransportOptions o;
  o.receive_buffer_bytes = 64 << 10;
  CurlTransport t(o);
  auto stream = t.Send(HttpRequest{"GET", server.Url("/big"), {}, nullptr, 0});
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::string got;
  char buf[1000];  // small, odd-sized reads
  for (;;) {
    auto n = (*stream)->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_TRUE(got == big);
}

TEST(CurlTransport, TruncatedBodyIsARetryableIOError) {
  TinyServer server([](const SeenRequest&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", true};
  });
  CurlTransport t({});
  auto res = SendAndReadAll(t, HttpRequest{"GET", server.Url("/k"), {}, nullptr, 0});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kIOError);
  EXPECT_TRUE(res.status().retryable());
}

TEST(CurlTransport, ConnectionRefusedNamesTheEndpoint) {
  int port;
  {
    TinyServer server([](const SeenRequest&) { return Reply{}; });
    port = std::stoi(server.Url("").substr(17));
  }
  CurlTransport t({});
  std::string origin = "http://127.0.0.1:" + std::to_string(port);
  auto res = t.Send(HttpRequest{"GET", origin + "/k", {}, nullptr, 0});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(res.status().retryable());
  EXPECT_TRUE(res.status().message().starts_with("cannot connect to " + origin + ": "))
      << res.status().message();
}

TEST(CurlTransport, TlsFailureSaysWhatToCheckAndIsNotRetried) {
  // A plain-text server behind an https URL: the TLS handshake fails.
  TinyServer server([](const SeenRequest&) { return Reply{}; },
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  std::string origin = "https" + server.Url("").substr(4);
  CurlTransport t({});
  auto res = t.Send(HttpRequest{"GET", origin + "/k", {}, nullptr, 0});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(res.status().retryable());
  EXPECT_TRUE(res.status().message().starts_with("TLS connection to " + origin + " failed: "))
      << res.status().message();
  EXPECT_NE(res.status().message().find("(check the server's certificate, the CA bundle"),
            std::string::npos);
}

TEST(CurlTransport, StallTimeoutFailsAStuckResponse) {
  TinyServer server([](const SeenRequest&) {
    // Headers, then silence. (Once body bytes have flowed, curl's speed
    // average needs a few more seconds to drop below 1 byte/s.)
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false,
                 std::chrono::milliseconds(3000)};
  });
  CurlTransportOptions o;
  o.stall_timeout = std::chrono::milliseconds(1000);
  CurlTransport t(o);
  auto start = std::chrono::steady_clock::now();
  auto res = SendAndReadAll(t, HttpRequest{"GET", server.Url("/k"), {}, nullptr, 0});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded) << res.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2900));
}

}  // namespace
}  // namespace dbbackup::store::s3
