#include "daemon/metrics.h"

#include <gtest/gtest.h>

namespace dbbackup::daemon {
namespace {

TEST(MetricsTest, ExpositionFormat) {
  DatabaseMetrics m;
  m.database = "app.db";
  m.last_success_timestamp = 1790000000.5;
  m.last_duration_seconds = 1.25;
  m.last_original_bytes = 1000;
  m.last_compressed_bytes = 300;
  m.backups_total = 2;
  m.failures_total = 1;
  m.uploaded_bytes_total = 600;
  DatabaseMetrics empty;
  empty.database = "we\"ird\\db\n";
  std::string text = RenderMetrics({m, empty});
  EXPECT_NE(text.find("# TYPE dbbackup_backups_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE dbbackup_last_success_timestamp_seconds gauge\n"), std::string::npos);
  EXPECT_NE(
      text.find("dbbackup_last_success_timestamp_seconds{database=\"app.db\"} 1790000000.5\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("dbbackup_last_duration_seconds{database=\"app.db\"} 1.25\n"),
            std::string::npos);
  EXPECT_NE(text.find("dbbackup_last_compressed_size_bytes{database=\"app.db\"} 300\n"),
            std::string::npos);
  EXPECT_NE(text.find("dbbackup_backups_total{database=\"app.db\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("dbbackup_failures_total{database=\"app.db\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("dbbackup_uploaded_bytes_total{database=\"app.db\"} 600\n"),
            std::string::npos);
  // Absent gauges are left out; counters are always there; labels escaped.
  EXPECT_EQ(text.find("dbbackup_next_run_timestamp_seconds{"), std::string::npos);
  EXPECT_NE(text.find("dbbackup_backups_total{database=\"we\\\"ird\\\\db\\n\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("dbbackup_last_duration_seconds{database=\"we"), std::string::npos);
}

}  // namespace
}  // namespace dbbackup::daemon
