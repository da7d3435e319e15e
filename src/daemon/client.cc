#include "daemon/client.h"

#include "daemon/httplib_adapter.h"

namespace dbbackup::daemon {

Result<DaemonClient> DaemonClient::Create(const std::string& url, const std::string& token) {
  const std::string kScheme = "http://";
  const Status bad = Status::InvalidArgument(
      "DBBACKUP_DAEMON_URL '" + url + "': want http://HOST:PORT, e.g. http://127.0.0.1:8780");
  if (!url.starts_with(kScheme)) return bad;
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos || rest.empty()) return bad;
  std::string host = rest;
  int port = 80;
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    host = rest.substr(0, colon);
    try {
      size_t used = 0;
      port = std::stoi(rest.substr(colon + 1), &used);
      if (used != rest.size() - colon - 1 || port <= 0 || port > 65535) return bad;
    } catch (const std::exception&) {
      return bad;
    }
  }
  if (host.empty()) return bad;
  return DaemonClient(kScheme + rest, host, port, token);
}

Result<nlohmann::json> DaemonClient::Call(const std::string& method, const std::string& path,
                                          const std::string& body) {
  try {
    httplib::Client cli(host_, port_);
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(30, 0);
    httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
    httplib::Result res = method == "POST"
                              ? cli.Post(path.c_str(), headers, body, "application/json")
                              : cli.Get(path.c_str(), headers);
    if (!res) {
      return Status::Unavailable("no dbbackup daemon is running at " + url_ + " (" +
                                 httplib::to_string(res.error()) +
                                 "); start one with `dbbackup daemon`, or set "
                                 "DBBACKUP_DAEMON_URL");
    }
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (res->status == 401) {
      return Status::PermissionDenied("the daemon at " + url_ +
                                      " refused the API token (set DBBACKUP_API_TOKEN, or "
                                      "DBBACKUP_STATE_DIR to the daemon's state directory)");
    }
    if (res->status >= 400) {
      std::string msg = j.is_object() ? j.value("error", res->body) : res->body;
      std::string code = j.is_object() ? j.value("code", "") : "";
      if (res->status == 404 || code == "NotFound") return Status::NotFound(msg);
      if (res->status == 400) return Status::InvalidArgument(msg);
      if (res->status == 503) return Status::Unavailable(msg);
      return Status::IOError("daemon: HTTP " + std::to_string(res->status) + ": " + msg);
    }
    if (j.is_discarded()) return Status::IOError("daemon sent a response that is not JSON");
    return j;
  } catch (const std::exception& e) {
    return Status::IOError(std::string("daemon client: ") + e.what());
  }
}

Result<nlohmann::json> DaemonClient::SubmitJob(const std::string& kind,
                                               const std::string& database) {
  nlohmann::json body = {{"kind", kind}};
  if (!database.empty()) body["database"] = database;
  return Call("POST", "/api/jobs", body.dump());
}

Result<nlohmann::json> DaemonClient::GetJob(const std::string& id) {
  if (id.empty() || id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-") != std::string::npos) {
    return Status::InvalidArgument("'" + id + "' is not a job id");
  }
  return Call("GET", "/api/jobs/" + id, "");
}

}  // namespace dbbackup::daemon
