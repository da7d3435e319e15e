#include "daemon/http_api.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/log.h"
#include "daemon/auth.h"
#include "daemon/dashboard.h"
#include "daemon/httplib_adapter.h"
#include "daemon/metrics.h"

namespace dbbackup::daemon {
namespace {

using nlohmann::json;

json TimeOrNull(int64_t ms) {
  if (ms == 0) return nullptr;
  return catalog::FormatIsoTimestamp(FromMillis(ms));
}

json JobObject(const JobRecord& j) {
  json result = nullptr;
  if (!j.result.empty()) result = json::parse(j.result, nullptr, /*allow_exceptions=*/false);
  if (result.is_discarded()) result = nullptr;
  return {{"id", j.id},
          {"kind", j.kind},
          {"database", j.database},
          {"state", j.state},
          {"trigger", j.trigger},
          {"created_at", TimeOrNull(j.created_ms)},
          {"started_at", TimeOrNull(j.started_ms)},
          {"finished_at", TimeOrNull(j.finished_ms)},
          {"result", result},
          {"error", j.error.empty() ? json(nullptr) : json(j.error)}};
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kPermissionDenied:
      return 403;
    default:
      return 500;
  }
}

void SendError(httplib::Response& res, int http, const std::string& message,
               std::string_view code) {
  res.status = http;
  res.set_content(json{{"error", message}, {"code", std::string(code)}}.dump(), "application/json");
}

void SendStatus(httplib::Response& res, const Status& s) {
  SendError(res, HttpStatusOf(s.code()), s.message(), StatusCodeName(s.code()));
}

void SendJson(httplib::Response& res, const json& j, int http = 200) {
  res.status = http;
  res.set_content(j.dump(), "application/json");
}

// Parses a non-negative integer query parameter.
bool IntParam(const httplib::Request& req, const char* name, int def, int max, int* out) {
  *out = def;
  if (!req.has_param(name)) return true;
  const std::string v = req.get_param_value(name);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::min(std::stoi(v), max);
  return true;
}

double UnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::string JobJson(const JobRecord& job) { return JobObject(job).dump(); }

HttpApi::HttpApi(JobRunner* runner, StateDb* db, engine::EngineContext ctx, HttpApiOptions options)
    : runner_(runner), db_(db), ctx_(std::move(ctx)), options_(std::move(options)) {}

HttpApi::~HttpApi() { Stop(); }

Status HttpApi::Start() {
  if (options_.token.empty() && !IsLoopback(options_.host)) {
    return Status::InvalidArgument("refusing to listen on " + options_.host +
                                   " without an API token (set DBBACKUP_API_TOKEN or use "
                                   "--token-file)");
  }
  server_ = std::make_unique<httplib::Server>();
  Routes();
  bool bound = false;
  try {
    if (options_.port == 0) {
      port_ = server_->bind_to_any_port(options_.host);
      bound = port_ > 0;
    } else {
      bound = server_->bind_to_port(options_.host, options_.port);
      port_ = options_.port;
    }
  } catch (const std::exception& e) {
    bound = false;
  }
  if (!bound) {
    server_.reset();
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) +
                               " (address in use, or not an address of this host)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::OK();
}

void HttpApi::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpApi::Routes() {
  httplib::Server& s = *server_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The dashboard's page and assets hold no secrets (dashboard.h).
    if (req.path == "/healthz" || req.path == "/" || req.path == "/dashboard.js" ||
        req.path == "/dashboard.css") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.path == "/metrics" && options_.public_metrics) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string auth = req.get_header_value("Authorization");
    const std::string kBearer = "Bearer ";
    if (options_.token.empty() ||
        (auth.starts_with(kBearer) && TokenEquals(auth.substr(kBearer.size()), options_.token))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "missing or wrong API token (Authorization: Bearer <token>)",
              "Unauthenticated");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        SendError(res, 500, what, "Internal");
      });

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, {{"status", "ok"}});
  });

  auto asset = [](std::string_view body, const char* type) {
    return [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", std::string(DashboardContentSecurityPolicy()));
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(body), type);
    };
  };
  s.Get("/", asset(DashboardHtml(), "text/html; charset=utf-8"));
  s.Get("/dashboard.js", asset(DashboardScript(), "text/javascript; charset=utf-8"));
  s.Get("/dashboard.css", asset(DashboardStyle(), "text/css; charset=utf-8"));

  s.Get("/api/databases", [this](const httplib::Request&, httplib::Response& res) {
    json arr = json::array();
    for (const auto& d : runner_->databases()) {
      auto next = runner_->NextRun(d.name);
      arr.push_back(
          {{"name", d.name},
           {"path", d.backup.db_path},
           {"schedule", d.schedule.text},
           {"timezone", d.schedule.zone},
           {"next_run", next ? json(catalog::FormatIsoTimestamp(*next)) : json(nullptr)}});
    }
    SendJson(res, arr);
  });

  s.Post("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      return SendError(res, 400, "body must be a JSON object {\"kind\":..., \"database\":...}",
                       "InvalidArgument");
    }
    std::string kind = kKindBackup;
    std::string database;
    if (body.contains("kind")) {
      if (!body["kind"].is_string())
        return SendError(res, 400, "kind must be a string", "InvalidArgument");
      kind = body["kind"].get<std::string>();
    }
    if (body.contains("database") && !body["database"].is_null()) {
      if (!body["database"].is_string()) {
        return SendError(res, 400, "database must be a string", "InvalidArgument");
      }
      database = body["database"].get<std::string>();
    }
    auto job = runner_->Submit(kind, database, "api");
    if (!job.ok()) return SendStatus(res, job.status());
    SendJson(res, JobObject(*job), job->state == kJobQueued ? 202 : 200);
  });

  s.Get(R"(/api/jobs/([A-Za-z0-9_-]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          auto job = db_->GetJob(req.matches[1]);
          if (!job.ok()) return SendStatus(res, job.status());
          SendJson(res, JobObject(*job));
        });

  s.Get("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    int limit = 0;
    int offset = 0;
    if (!IntParam(req, "limit", 50, 1000, &limit) ||
        !IntParam(req, "offset", 0, 1'000'000'000, &offset)) {
      return SendError(res, 400, "limit and offset must be non-negative integers",
                       "InvalidArgument");
    }
    auto jobs = db_->ListJobs(limit, offset);
    if (!jobs.ok()) return SendStatus(res, jobs.status());
    auto total = db_->CountJobs();
    if (!total.ok()) return SendStatus(res, total.status());
    json arr = json::array();
    for (const auto& j : *jobs) arr.push_back(JobObject(j));
    SendJson(res, {{"jobs", arr}, {"total", *total}, {"limit", limit}, {"offset", offset}});
  });

  s.Get("/api/backups", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string only = req.has_param("database") ? req.get_param_value("database") : "";
    json arr = json::array();
    bool found = only.empty();
    for (const auto& d : runner_->databases()) {
      if (!only.empty() && d.name != only) continue;
      found = true;
      engine::EngineContext ctx = runner_->ContextFor(d);
      catalog::ListOptions opts;
      opts.with_metadata = true;
      auto list = catalog::ListBackups(*ctx.store, ctx.prefix, opts);
      if (!list.ok()) return SendStatus(res, list.status());
      const std::string file = "/" + std::filesystem::path(d.backup.db_path).filename().string();
      for (const auto& e : *list) {
        const size_t slash = e.key.rfind('/');
        if (slash == std::string::npos || e.key.compare(slash, file.size(), file) != 0) continue;
        json j = {{"database", d.name},
                  {"key", e.key},
                  {"timestamp", catalog::FormatIsoTimestamp(e.timestamp)},
                  {"compressed_size", e.compressed_size},
                  {"original_size", nullptr}};
        if (e.metadata) j["original_size"] = e.metadata->original_size;
        arr.push_back(j);
      }
    }
    if (!found) return SendError(res, 404, "no database '" + only + "' is configured", "NotFound");
    SendJson(res, arr);
  });

  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<DatabaseMetrics> all;
    for (const auto& d : runner_->databases()) {
      DatabaseMetrics m;
      m.database = d.name;
      for (const char* kind : {kKindBackup, kKindVerify, kKindPrune, kKindRestoreDrill}) {
        auto stats = db_->Stats(d.name, kind);
        if (!stats.ok()) return SendStatus(res, stats.status());
        m.failures_total += static_cast<double>(stats->failed);
        if (std::string(kind) != kKindBackup) continue;
        m.backups_total = static_cast<double>(stats->succeeded);
        m.uploaded_bytes_total = static_cast<double>(stats->compressed_bytes);
        if (stats->last_success) {
          const JobRecord& j = *stats->last_success;
          m.last_success_timestamp = static_cast<double>(j.finished_ms) / 1000.0;
          json r = json::parse(j.result, nullptr, false);
          if (r.is_object()) {
            if (r.contains("duration_s")) m.last_duration_seconds = r["duration_s"].get<double>();
            if (r.contains("original_size")) {
              m.last_original_bytes = r["original_size"].get<double>();
            }
            if (r.contains("compressed_size")) {
              m.last_compressed_bytes = r["compressed_size"].get<double>();
            }
          }
        }
      }
      if (auto next = runner_->NextRun(d.name)) m.next_run_timestamp = UnixSeconds(*next);
      all.push_back(std::move(m));
    }
    res.set_content(RenderMetrics(all), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace dbbackup::daemon
