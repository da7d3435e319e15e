// /metrics: the Prometheus text exposition format (version 0.0.4), written
// here (Debian packages no prometheus-cpp). A pure function of the figures,
// so it is tested without a daemon.
//
// Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dbbackup::daemon {

struct DatabaseMetrics {
  std::string database;
  std::optional<double> last_success_timestamp;  // Unix seconds
  std::optional<double> last_duration_seconds;
  std::optional<double> last_original_bytes;
  std::optional<double> last_compressed_bytes;
  double backups_total = 0;   // succeeded backup jobs
  double failures_total = 0;  // failed jobs of any kind
  double uploaded_bytes_total = 0;
  std::optional<double> next_run_timestamp;  // Unix seconds
};

// Families dbbackup_last_success_timestamp_seconds,
// dbbackup_last_duration_seconds, dbbackup_last_original_size_bytes,
// dbbackup_last_compressed_size_bytes, dbbackup_backups_total,
// dbbackup_failures_total, dbbackup_uploaded_bytes_total,
// dbbackup_next_run_timestamp_seconds, each with a {database="..."} label;
// absent values are left out.
std::string RenderMetrics(const std::vector<DatabaseMetrics>& databases);

// Escapes a label value (\\, \", \n).
std::string EscapeLabelValue(const std::string& v);

}  // namespace dbbackup::daemon
