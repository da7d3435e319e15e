// The daemon's HTTP API (cpp-httplib), on 127.0.0.1:8780 by default.
//
//   GET  /healthz                      no token: {"status":"ok"}
//   GET  / /dashboard.js /dashboard.css no token: the dashboard (dashboard.h)
//   GET  /api/databases                -> [{name,path,schedule,timezone,next_run}]
//   GET  /metrics                      Prometheus text (token unless public)
//   POST /api/jobs  {"kind","database"} -> 202 the job (200 when joining one)
//   GET  /api/jobs/{id}                -> the job; 404 if unknown
//   GET  /api/jobs?limit=&offset=      -> {"jobs":[...],"total":N}, newest first
//   GET  /api/backups?database=        -> [{database,key,timestamp,compressed_size,
//                                          original_size}], newest first per database
//
// Every other request needs "Authorization: Bearer <token>": 401 without
// it. Errors are {"error": "...", "code": "..."}. A job is
// {id, kind, database, state, trigger, created_at, started_at, finished_at,
// result, error} (times ISO 8601 UTC or null; result a JSON object or null).
//
// Thread-safety: Start/Stop from one thread; requests are served on
// httplib's thread pool and use only thread-safe collaborators.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/jobs.h"
#include "daemon/state_db.h"
#include "engine/engine.h"

namespace httplib {
class Server;
}

namespace dbbackup::daemon {

struct HttpApiOptions {
  // Address to bind. Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // 0 picks a free port (see port()). Default: 8780.
  int port = 8780;
  // The bearer token. REQUIRES: non-empty unless host is loopback (Start
  // refuses otherwise).
  std::string token;
  // Serve /metrics without the token. Default: false.
  bool public_metrics = false;
};

class HttpApi {
 public:
  // `runner`, `db` and ctx's store must outlive this object.
  HttpApi(JobRunner* runner, StateDb* db, engine::EngineContext ctx, HttpApiOptions options);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds and starts serving on a thread. kInvalidArgument for a non-loopback
  // host without a token, kUnavailable if the address cannot be bound.
  Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops accepting and waits for the serving thread.
  void Stop();

 private:
  void Routes();
  JobRunner* runner_;
  StateDb* db_;
  engine::EngineContext ctx_;
  HttpApiOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// The JSON form of a job (see above).
std::string JobJson(const JobRecord& job);

}  // namespace dbbackup::daemon
