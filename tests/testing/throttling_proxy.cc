#include "testing/throttling_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace dbbackup::testing {

ThrottlingProxy::ThrottlingProxy(int upstream_port, uint64_t bytes_per_second, uint64_t stall_after)
    : upstream_port_(upstream_port), rate_(bytes_per_second), stall_after_(stall_after) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
  threads_.emplace_back([this] { AcceptLoop(); });
}

ThrottlingProxy::~ThrottlingProxy() {
  stop_ = true;
  // Pumps may still be added by the accept loop: join until none are left.
  while (true) {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    if (threads.empty()) break;
    for (std::thread& t : threads) t.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string ThrottlingProxy::Endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

uint64_t ThrottlingProxy::Allowance() const {
  const uint64_t used = forwarded_;
  if (used >= stall_after_) return 0;
  if (rate_ == 0) return stall_after_ - used;  // unthrottled
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double allowed = elapsed * static_cast<double>(rate_);
  const uint64_t budget = allowed >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(allowed);
  return std::min(budget > used ? budget - used : 0, stall_after_ - used);
}

void ThrottlingProxy::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, client] { Pump(client); });
  }
}

void ThrottlingProxy::Pump(int client) {
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(client);
    if (server >= 0) ::close(server);
    return;
  }
  char buf[16384];
  // Writes all of buf[0, n) to fd; false if the peer is gone.
  auto send_all = [](int fd, const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  };
  while (!stop_) {
    const uint64_t allowance = Allowance();
    pollfd fds[2] = {{client, static_cast<short>(allowance > 0 ? POLLIN : 0), 0},
                     {server, POLLIN, 0}};
    if (::poll(fds, 2, 10) < 0) break;
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(server, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(client, buf, static_cast<size_t>(n))) break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buf, allowance));
      ssize_t n = ::recv(client, buf, want, 0);
      if (n <= 0 || !send_all(server, buf, static_cast<size_t>(n))) break;
      forwarded_ += static_cast<uint64_t>(n);
    }
  }
  ::close(client);
  ::close(server);
}

int PortOfEndpoint(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return 0;
  int port = 0;
  for (size_t i = colon + 1; i < endpoint.size() && std::isdigit(endpoint[i]); ++i) {
    port = port * 10 + (endpoint[i] - '0');
  }
  return port;
}

}  // namespace dbbackup::testing
