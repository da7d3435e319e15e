#include "engine/backup.h"

#include <gtest/gtest.h>

#include "catalog/metadata.h"
#include "codec/compression.h"
#include "codec/hashing.h"
#include "common/io.h"
#include "engine/restore.h"
#include "engine/test_db.h"
#include "env/file_util.h"
#include "store/mem_store.h"

namespace dbbackup::engine {
namespace {

using testing::EngineTest;

class BackupTest : public EngineTest {
 protected:
  BackupOptions Options() {
    BackupOptions o;
    o.db_path = db_;
    o.temp_dir = dir_;
    return o;
  }
};

TEST_F(BackupTest, StoresGzipWithSeedLayoutAndMetadata) {
  testing::MakeDb(db_, 500);
  auto r = RunBackup(ctx_, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key, "backups/full/20240113_120000/database.db.gz");
  EXPECT_EQ(r->timestamp, "2024-01-13T12:00:00Z");
  EXPECT_TRUE(r->verified);
  EXPECT_EQ(r->tables, 2);
  EXPECT_EQ(r->records, 1000);
  EXPECT_EQ(r->original_size, *env::FileSize(db_));

  auto head = mem_.Head(r->key);
  ASSERT_TRUE(head.ok());
  const auto& m = head->metadata;
  EXPECT_EQ(m.at("timestamp"), "2024-01-13T12:00:00Z");
  EXPECT_EQ(m.at("original-size"), std::to_string(r->original_size));
  EXPECT_EQ(m.at("compressed-size"), std::to_string(head->size));
  EXPECT_EQ(m.at("backup-type"), "full");
  EXPECT_EQ(m.at("database-path"), db_);
  EXPECT_EQ(m.at("sha256"), r->sha256);
  EXPECT_EQ(m.at("compression"), "gzip");
  EXPECT_EQ(m.at("tables"), "2");
  EXPECT_EQ(m.at("records"), "1000");
  EXPECT_FALSE(m.at("dbbackup-version").empty());

  // The object is a plain gzip stream of the database.
  auto body = mem_.Contents(r->key);
  ASSERT_TRUE(body.has_value());
  ASSERT_GE(body->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*body)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*body)[1]), 0x8b);
}

// A store whose etags are content MD5s only up to `limit` bytes, as S3's
// are up to one part.
class Md5LimitedStore : public store::MemObjectStore {
 public:
  Md5LimitedStore(env::Clock* clock, uint64_t limit)
      : store::MemObjectStore(store::MemStoreOptions{1000, clock}), limit_(limit) {}
  uint64_t Md5EtagLimit() const override { return limit_; }

 private:
  uint64_t limit_;
};

TEST_F(BackupTest, RecordsTheCompressedMd5OnlyWhereTheEtagIsOne) {
  testing::MakeDb(db_, 500);
  auto small = RunBackup(ctx_, Options());
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  auto head = mem_.Head(small->key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata.at("compressed-md5"), codec::Md5Hex(*mem_.Contents(small->key)));

  // Past the limit the object would be multipart: no MD5 to compare with.
  Md5LimitedStore limited(&clock_, 100);
  EngineContext ctx = ctx_;
  ctx.store = &limited;
  auto large = RunBackup(ctx, Options());
  ASSERT_TRUE(large.ok()) << large.status().ToString();
  EXPECT_TRUE(large->verified);
  head = limited.Head(large->key);
  ASSERT_TRUE(head.ok());
  EXPECT_GT(head->size, 100u);
  EXPECT_EQ(head->metadata.count("compressed-md5"), 0u);
  EXPECT_EQ(head->metadata.at("sha256"), large->sha256);

  // Restore and verify do without it.
  RestoreOptions ro;
  ro.target_path = Path("restored.db");
  auto r = RunRestore(ctx, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->checksum_verified);
}

TEST_F(BackupTest, RoundTripsThroughRestore) {
  testing::MakeDb(db_, 300);
  const std::string before = testing::DumpDb(db_);
  ASSERT_TRUE(RunBackup(ctx_, Options()).ok());
  RestoreOptions ro;
  ro.target_path = Path("restored.db");
  auto r = RunRestore(ctx_, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->checksum_verified);
  EXPECT_EQ(testing::DumpDb(ro.target_path), before);
  EXPECT_TRUE(r->safety_copy_path.empty());
}

TEST_F(BackupTest, ZstdAndNoneRoundTrip) {
  testing::MakeDb(db_, 200);
  const std::string before = testing::DumpDb(db_);
  for (const char* c : {"zstd", "none"}) {
    auto o = Options();
    o.compression = c;
    auto b = RunBackup(ctx_, o);
    ASSERT_TRUE(b.ok()) << c << ": " << b.status().ToString();
    RestoreOptions ro;
    ro.key = b->key;
    ro.target_path = Path(std::string("restored-") + c + ".db");
    auto r = RunRestore(ctx_, ro);
    ASSERT_TRUE(r.ok()) << c << ": " << r.status().ToString();
    EXPECT_EQ(testing::DumpDb(ro.target_path), before);
  }
}

TEST_F(BackupTest, TwoBackupsInOneSecondGetDistinctKeys) {
  testing::MakeDb(db_, 10);
  auto a = RunBackup(ctx_, Options());
  auto b = RunBackup(ctx_, Options());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key, b->key);
  EXPECT_EQ(mem_.object_count(), 2u);
}

TEST_F(BackupTest, DryRunWritesNothing) {
  testing::MakeDb(db_, 10);
  auto o = Options();
  o.dry_run = true;
  auto r = RunBackup(ctx_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(r->verified);  // the spool was checked instead of the upload
  EXPECT_GT(r->compressed_size, 0u);
  EXPECT_EQ(mem_.object_count(), 0u);
  EXPECT_EQ(mem_.call_counts().put, 0u);
}

TEST_F(BackupTest, MissingDatabaseIsAnErrorAndIsNotCreated) {
  auto r = RunBackup(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(db_), std::string::npos);
  EXPECT_FALSE(env::PathExists(db_));
}

TEST_F(BackupTest, NotADatabaseIsAnError) {
  ASSERT_TRUE(env::WriteFileAtomic(db_, "hello, this is text\n").ok());
  auto r = RunBackup(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a SQLite database"), std::string::npos);
  EXPECT_EQ(mem_.object_count(), 0u);
}

TEST_F(BackupTest, UnknownCompressionIsRejected) {
  testing::MakeDb(db_, 10);
  auto o = Options();
  o.compression = "lzma";
  EXPECT_EQ(RunBackup(ctx_, o).status().code(), StatusCode::kInvalidArgument);
}

// RocksDB-style fault injection: an upload cut midway leaves no visible
// backup, and the next run succeeds.
TEST_F(BackupTest, InterruptedUploadLeavesNothingVisible) {
  testing::MakeDb(db_, 2000);
  store::PutFault fault;
  fault.point = store::PutFault::Point::kMidBody;
  fault.after_bytes = 1000;
  store_.SetPutFault(fault);
  auto r = RunBackup(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(mem_.object_count(), 0u);
  auto listed = catalog::ListBackups(store_, "backups");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  store_.ClearFaults();
  auto again = RunBackup(ctx_, Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(mem_.object_count(), 1u);
}

TEST_F(BackupTest, TempFilesAreRemovedOnSuccessAndFailure) {
  testing::MakeDb(db_, 100);
  auto count_files = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      (void)e;
      ++n;
    }
    return n;
  };
  const size_t before = count_files();
  ASSERT_TRUE(RunBackup(ctx_, Options()).ok());
  EXPECT_EQ(count_files(), before);
  store_.SetPutFault(store::PutFault{});
  ASSERT_FALSE(RunBackup(ctx_, Options()).ok());
  EXPECT_EQ(count_files(), before);
}

TEST_F(BackupTest, LeftoversOfAKilledBackupAreCollected) {
  testing::MakeDb(db_, 10);
  // What a SIGKILLed backup leaves: its work directory, whose lock died with it.
  const std::string stale = Path("dbbackup-backup-dead01");
  ASSERT_TRUE(env::MakeDirs(stale).ok());
  ASSERT_TRUE(env::WriteFileAtomic(stale + "/.lock", "").ok());
  ASSERT_TRUE(env::WriteFileAtomic(stale + "/spool-x", std::string(1000, 'x')).ok());
  ASSERT_TRUE(RunBackup(ctx_, Options()).ok());
  EXPECT_FALSE(env::PathExists(stale));
}

TEST_F(BackupTest, RetentionRunsAfterBackupAndKeepsNewest) {
  testing::MakeDb(db_, 10);
  ASSERT_TRUE(RunBackup(ctx_, Options()).ok());
  clock_.Advance(std::chrono::hours(24 * 40));
  auto r = RunBackup(ctx_, Options());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->pruned.size(), 1u);
  EXPECT_EQ(r->pruned[0], "backups/full/20240113_120000/database.db.gz");
  EXPECT_EQ(mem_.Keys(), std::vector<std::string>{r->key});
}

TEST_F(BackupTest, FailedRetentionDoesNotFailTheBackup) {
  testing::MakeDb(db_, 10);
  ASSERT_TRUE(RunBackup(ctx_, Options()).ok());
  store_.FailDelete("backups/full/20240113_120000/database.db.gz",
                    Status::PermissionDenied("access denied for s3:DeleteObject"));
  clock_.Advance(std::chrono::hours(24 * 40));
  auto r = RunBackup(ctx_, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->prune_error.find("s3:DeleteObject"), std::string::npos);
  EXPECT_EQ(mem_.object_count(), 2u);
}

TEST_F(BackupTest, StoreNotReadyFailsBeforeSnapshot) {
  testing::MakeDb(db_, 10);
  store_.FailCheckReady(Status::NotFound("bucket 'x' does not exist"));
  auto r = RunBackup(ctx_, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bucket 'x' does not exist"), std::string::npos);
}

}  // namespace
}  // namespace dbbackup::engine
