#include "testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace dbbackup::testing {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    data += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
bool SendAll(int fd, const std::string& s) { return SendAll(fd, s.data(), s.size()); }

// Reads into `buf` until it holds `n` bytes; false on EOF or error.
bool ReadUntilSize(int fd, std::string* buf, size_t n) {
  char tmp[65536];
  while (buf->size() < n) {
    ssize_t k = recv(fd, tmp, std::min(sizeof(tmp), n - buf->size()), 0);
    if (k <= 0) return false;
    buf->append(tmp, static_cast<size_t>(k));
  }
  return true;
}

// Resets the connection (RST, not FIN) as a crashed peer or middlebox would.
void Reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// Splits a raw message head into its first line and lower-cased headers.
std::string ParseHead(const std::string& head, std::map<std::string, std::string>* headers) {
  size_t eol = head.find("\r\n");
  std::string first = head.substr(0, eol);
  size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      (*headers)[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
    }
    pos = end + 2;
  }
  return first;
}

// `head` (ending "\r\n\r\n") without its Connection header, plus `extra`.
std::string ReplaceConnection(const std::string& head, const std::string& extra) {
  std::string out;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if (Lower(line).starts_with("connection:")) continue;
    out += line + "\r\n";
  }
  return out + extra + "\r\n";
}

}  // namespace

FaultProxy::FaultProxy(const std::string& upstream, Options options)
    : upstream_host_([&] {
        // "http://HOST:PORT"
        std::string rest = upstream.substr(upstream.find("://") + 3);
        return rest.substr(0, rest.rfind(':'));
      }()),
      upstream_port_(std::stoi(upstream.substr(upstream.rfind(':') + 1))),
      options_(std::move(options)),
      rng_(options_.seed) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("FaultProxy: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  std::vector<std::thread> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    conns.swap(conns_);
  }
  for (auto& t : conns) t.join();
}

std::string FaultProxy::Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::SetInterceptor(Interceptor interceptor) {
  std::lock_guard<std::mutex> lock(mu_);
  interceptor_ = std::move(interceptor);
}

void FaultProxy::SetFaultShare(double share) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.fault_share = share;
}

int FaultProxy::Count(Fault fault) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(fault);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<FaultProxy::Decision> FaultProxy::Decisions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decisions_;
}

std::vector<std::string> FaultProxy::Log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

std::string FaultProxy::ErrorResponse(
    int status, const std::string& code,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& extra_xml) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
                     "</Code><Message>injected by the test proxy</Message>" + extra_xml +
                     "<RequestId>fault-proxy</RequestId></Error>";
  std::string r = "HTTP/1.1 " + std::to_string(status) +
                  " Injected\r\nContent-Type: application/xml\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers) r += k + ": " + v + "\r\n";
  return r + "\r\n" + body;
}

FaultProxy::Fault FaultProxy::Decide() {
  std::lock_guard<std::mutex> lock(mu_);
  double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (roll >= options_.fault_share || options_.faults.empty()) return Fault::kNone;
  if (options_.max_faults >= 0 && injected_ >= options_.max_faults) return Fault::kNone;
  return options_.faults[static_cast<size_t>(injected_++) % options_.faults.size()];
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultProxy::WaitForClose(int fd) {
  char tmp[4096];
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r < 0) return;
    if (r == 0) continue;
    if (recv(fd, tmp, sizeof(tmp), 0) <= 0) return;
  }
}

std::string FaultProxy::Forward(const std::string& head, const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      SendAll(fd, ReplaceConnection(head, "Connection: close\r\n")) && SendAll(fd, body)) {
    char tmp[65536];
    for (;;) {
      ssize_t k = recv(fd, tmp, sizeof(tmp), 0);
      if (k <= 0) break;
      response.append(tmp, static_cast<size_t>(k));
    }
  }
  close(fd);
  return response;
}

void FaultProxy::Serve(int fd) {
  std::string buf;
  bool keep_alive = true;
  while (keep_alive && !stopping_) {
    size_t head_end;
    char tmp[65536];
    bool eof = false;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t k = recv(fd, tmp, sizeof(tmp), 0);
      if (k <= 0) {
        eof = true;
        break;
      }
      buf.append(tmp, static_cast<size_t>(k));
    }
    if (eof) break;
    const std::string head = buf.substr(0, head_end + 4);
    buf.erase(0, head_end + 4);
    Request req;
    std::string first = ParseHead(head, &req.headers);
    size_t sp1 = first.find(' ');
    size_t sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      length = std::stoul(it->second);
    }

    Interceptor interceptor;
    {
      std::lock_guard<std::mutex> lock(mu_);
      interceptor = interceptor_;
      log_.push_back(req.method + " " + req.target);
    }
    ++seen_;
    std::optional<std::string> answer;
    if (interceptor) answer = interceptor(req);
    Fault fault = answer ? Fault::kNone : Decide();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counts_[fault];
      decisions_.push_back({req.method + " " + req.target, fault});
    }

    if (fault == Fault::kResetRequest) {
      ReadUntilSize(fd, &buf, std::min(buf.size() + length / 2, length));
      Reset(fd);
      break;
    }
    if (!ReadUntilSize(fd, &buf, length)) break;
    std::string body = buf.substr(0, length);
    buf.erase(0, length);

    // A response to HEAD has headers only (Content-Length tells what a GET
    // would have sent).
    auto reply = [&](const std::string& response) {
      size_t end = response.find("\r\n\r\n");
      return req.method == "HEAD" && end != std::string::npos
                 ? SendAll(fd, response.data(), end + 4)
                 : SendAll(fd, response);
    };
    if (answer) {
      keep_alive = reply(*answer);
      continue;
    }
    switch (fault) {
      case Fault::k500:
        keep_alive = reply(ErrorResponse(500, "InternalError"));
        continue;
      case Fault::k503:
        keep_alive = reply(ErrorResponse(503, "SlowDown"));
        continue;
      case Fault::kStall:
        WaitForClose(fd);
        keep_alive = false;
        continue;
      default:
        break;
    }
    std::string response = Forward(head, body);
    if (response.empty()) {
      keep_alive = reply(ErrorResponse(502, "BadGateway"));
      continue;
    }
    if (fault == Fault::kResetResponse) {
      SendAll(fd, response.data(), response.size() / 2);
      Reset(fd);
      break;
    }
    // Keep the client's connection unless the response is delimited by EOF.
    size_t resp_head_end = response.find("\r\n\r\n");
    if (resp_head_end == std::string::npos) {
      SendAll(fd, response);
      break;
    }
    std::map<std::string, std::string> resp_headers;
    std::string resp_head = response.substr(0, resp_head_end + 4);
    ParseHead(resp_head, &resp_headers);
    bool delimited = req.method == "HEAD" || resp_headers.count("content-length") ||
                     resp_headers.count("transfer-encoding");
    keep_alive =
        delimited && SendAll(fd, ReplaceConnection(resp_head, "")) &&
        SendAll(fd, response.data() + resp_head.size(), response.size() - resp_head.size());
    if (!delimited) SendAll(fd, response);
  }
  std::lock_guard<std::mutex> lock(mu_);
  conn_fds_.erase(std::remove(conn_fds_.begin(), conn_fds_.end(), fd), conn_fds_.end());
  close(fd);
}

}  // namespace dbbackup::testing
