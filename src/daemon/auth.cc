#include "daemon/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace dbbackup::daemon {

std::string StateDir(const std::string& env_state_dir) {
  return env_state_dir.empty() ? "./.dbbackup-state" : env_state_dir;
}

std::string DefaultTokenFile(const std::string& state_dir) { return state_dir + "/api-token"; }

namespace {

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    if (errno == ENOENT) return Status::NotFound("no API token file " + path);
    return Status::IOError("cannot read API token file " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t start = 0;
  while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
  t = t.substr(start);
  if (t.empty()) return Status::InvalidArgument("API token file " + path + " is empty");
  return t;
}

}  // namespace

Result<std::string> LoadToken(const std::string& env_token, const std::string& token_file,
                              bool create) {
  if (!env_token.empty()) return env_token;
  auto existing = ReadToken(token_file);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound || !create) {
    return existing;
  }
  std::random_device rd;
  std::string token;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token += kHex[rd() % 16];
  int fd = ::open(token_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return ReadToken(token_file);  // another daemon won
    return Status::IOError("cannot create API token file " + token_file + ": " +
                           std::strerror(errno));
  }
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(token_file.c_str());
    return Status::IOError("cannot write API token file " + token_file);
  }
  return token;
}

Result<ListenAddress> ParseListen(const std::string& text) {
  ListenAddress a;
  std::string port;
  const Status bad =
      Status::InvalidArgument("--listen '" + text + "': want HOST:PORT, e.g. 127.0.0.1:8780");
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad;
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      a.host = "127.0.0.1";
      port = text;
    } else {
      a.host = colon == 0 ? "127.0.0.1" : text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || a.port < 0 ||
      a.port > 65535 || a.host.empty()) {
    return bad;
  }
  return a;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

bool TokenEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

}  // namespace dbbackup::daemon
