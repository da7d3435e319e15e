#include "engine/prune.h"

#include <gtest/gtest.h>

#include "common/io.h"
#include "engine/test_db.h"

namespace dbbackup::engine {
namespace {

using testing::EngineTest;

class PruneTest : public EngineTest {
 protected:
  void PutBackup(int days_ago) {
    auto t = clock_.Now() - std::chrono::hours(24 * days_ago);
    StringReader body("x");
    ASSERT_TRUE(
        mem_.Put(catalog::FullBackupKey("backups", t, "database.db", ".gz"), body, {}).ok());
  }
};

TEST_F(PruneTest, DeletesExpiredKeepsRecentAndForeignObjects) {
  PutBackup(100);
  PutBackup(40);
  PutBackup(5);
  StringReader other("y");
  ASSERT_TRUE(mem_.Put("backups/full/notes.txt", other, {}).ok());
  PruneOptions o;
  auto r = RunPrune(ctx_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->deleted.size(), 2u);
  EXPECT_EQ(r->kept.size(), 1u);
  EXPECT_EQ(mem_.object_count(), 2u);  // the recent backup and the foreign object
}

TEST_F(PruneTest, DryRunDeletesNothing) {
  PutBackup(100);
  PutBackup(1);
  PruneOptions o;
  o.dry_run = true;
  auto r = RunPrune(ctx_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted.size(), 1u);
  EXPECT_EQ(mem_.object_count(), 2u);
  EXPECT_EQ(mem_.call_counts().del, 0u);
}

TEST_F(PruneTest, DeleteDeniedIsAClearError) {
  PutBackup(100);
  PutBackup(90);
  PutBackup(1);
  auto t = clock_.Now() - std::chrono::hours(24 * 100);
  store_.FailDelete(catalog::FullBackupKey("backups", t, "database.db", ".gz"),
                    Status::PermissionDenied("access denied for s3:DeleteObject on arn:x"));
  auto r = RunPrune(ctx_, PruneOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("could not delete 1 of 2 expired backups"),
            std::string::npos);
  EXPECT_NE(r.status().message().find("s3:DeleteObject"), std::string::npos);
  EXPECT_EQ(mem_.object_count(), 2u);  // the other expired one was still deleted
}

}  // namespace
}  // namespace dbbackup::engine
