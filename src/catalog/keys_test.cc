#include "catalog/keys.h"

#include <gtest/gtest.h>

namespace dbbackup::catalog {
namespace {

const TimePoint kT(std::chrono::seconds(1705147200));  // 2024-01-13 12:00:00 UTC

TEST(KeysTest, SeedLayout) {
  EXPECT_EQ(FullBackupKey("backups", kT, "database.db", ".gz"),
            "backups/full/20240113_120000/database.db.gz");
  EXPECT_EQ(FormatIsoTimestamp(kT), "2024-01-13T12:00:00Z");
}

TEST(KeysTest, TimestampsRoundTrip) {
  EXPECT_EQ(ParseKeyTimestamp("20240113_120000"), kT);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-13T12:00:00Z"), kT);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-13T12:00:00.123456"), kT);  // Python isoformat()
  EXPECT_FALSE(ParseKeyTimestamp("20241313_120000"));
  EXPECT_FALSE(ParseKeyTimestamp("20240230_120000"));
  EXPECT_FALSE(ParseKeyTimestamp("2024011_1200000"));
  EXPECT_FALSE(ParseKeyTimestamp("latest"));
}

TEST(KeysTest, ParsesOnlyTheLayout) {
  auto p = ParseFullBackupKey("backups", "backups/full/20240113_120000/database.db.gz");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->timestamp, kT);
  EXPECT_EQ(p->file_name, "database.db.gz");
  EXPECT_FALSE(ParseFullBackupKey("backups", "backups/full/latest/database.db.gz"));
  EXPECT_FALSE(ParseFullBackupKey("backups", "backups/full/20240113_120000/"));
  EXPECT_FALSE(ParseFullBackupKey("backups", "backups/full/20240113_120000/a/b.gz"));
  EXPECT_FALSE(ParseFullBackupKey("backups", "other/full/20240113_120000/database.db.gz"));
  EXPECT_FALSE(ParseFullBackupKey("backups", "backupsX/full/20240113_120000/database.db.gz"));
}

TEST(KeysTest, UserKeysCannotEscapeThePrefix) {
  EXPECT_TRUE(ValidateUserKey("backups", "backups/full/20240113_120000/database.db.gz").ok());
  for (const char* bad :
       {"", "/backups/full/20240113_120000/database.db.gz", "../x", "backups/full/../../etc/passwd",
        "backups/full/20240113_120000/../x.gz", "backups//full/20240113_120000/x.gz",
        "backups/full/./20240113_120000/x.gz", "elsewhere/full/20240113_120000/x.gz"}) {
    Status s = ValidateUserKey("backups", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(KeysTest, NormalizePrefix) {
  EXPECT_EQ(*NormalizePrefix("/backups/"), "backups");
  EXPECT_EQ(*NormalizePrefix("team/db1"), "team/db1");
  EXPECT_FALSE(NormalizePrefix("").ok());
  EXPECT_FALSE(NormalizePrefix("a/../b").ok());
  EXPECT_FALSE(NormalizePrefix("a//b").ok());
}

}  // namespace
}  // namespace dbbackup::catalog
