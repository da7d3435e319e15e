#include "daemon/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>

namespace dbbackup::daemon {

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest text that reads back as the same double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

}  // namespace

std::string RenderMetrics(const std::vector<DatabaseMetrics>& databases) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::function<std::optional<double>(const DatabaseMetrics&)> get;
  };
  const Family families[] = {
      {"dbbackup_last_success_timestamp_seconds", "gauge",
       "Unix time the last successful backup finished.",
       [](const DatabaseMetrics& m) { return m.last_success_timestamp; }},
      {"dbbackup_last_duration_seconds", "gauge", "Duration of the last successful backup.",
       [](const DatabaseMetrics& m) { return m.last_duration_seconds; }},
      {"dbbackup_last_original_size_bytes", "gauge", "Database size of the last successful backup.",
       [](const DatabaseMetrics& m) { return m.last_original_bytes; }},
      {"dbbackup_last_compressed_size_bytes", "gauge",
       "Compressed size of the last successful backup.",
       [](const DatabaseMetrics& m) { return m.last_compressed_bytes; }},
      {"dbbackup_backups_total", "counter", "Successful backups.",
       [](const DatabaseMetrics& m) { return std::optional<double>(m.backups_total); }},
      {"dbbackup_failures_total", "counter", "Failed jobs of any kind.",
       [](const DatabaseMetrics& m) { return std::optional<double>(m.failures_total); }},
      {"dbbackup_uploaded_bytes_total", "counter", "Bytes uploaded by successful backups.",
       [](const DatabaseMetrics& m) { return std::optional<double>(m.uploaded_bytes_total); }},
      {"dbbackup_next_run_timestamp_seconds", "gauge", "Unix time of the next scheduled backup.",
       [](const DatabaseMetrics& m) { return m.next_run_timestamp; }},
  };
  std::string out;
  for (const Family& f : families) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " " + f.type + "\n";
    for (const DatabaseMetrics& m : databases) {
      std::optional<double> v = f.get(m);
      if (!v.has_value()) continue;
      out += std::string(f.name) + "{database=\"" + EscapeLabelValue(m.database) + "\"} " +
             Number(*v) + "\n";
    }
  }
  return out;
}

}  // namespace dbbackup::daemon
