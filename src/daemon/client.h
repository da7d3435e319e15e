// The client side of the daemon's HTTP API, for `dbbackup backup --async`
// and `dbbackup status`. Results are the API's JSON documents (see
// http_api.h).
//
// Thread-safety: one client per thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace dbbackup::daemon {

class DaemonClient {
 public:
  // `url` like http://127.0.0.1:8780 (http only). kInvalidArgument otherwise.
  static Result<DaemonClient> Create(const std::string& url, const std::string& token);

  // POST /api/jobs. kUnavailable "no dbbackup daemon is running at URL ..."
  // when nothing answers; kPermissionDenied when the token is refused; the
  // API's error (kNotFound, kInvalidArgument, ...) otherwise.
  Result<nlohmann::json> SubmitJob(const std::string& kind, const std::string& database);
  // GET /api/jobs/{id}. kNotFound "no job ID".
  Result<nlohmann::json> GetJob(const std::string& id);

  const std::string& url() const { return url_; }

 private:
  DaemonClient(std::string url, std::string host, int port, std::string token)
      : url_(std::move(url)), host_(std::move(host)), port_(port), token_(std::move(token)) {}
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const std::string& body);
  std::string url_;
  std::string host_;
  int port_;
  std::string token_;
};

}  // namespace dbbackup::daemon
