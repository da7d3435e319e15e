#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include "store/mem_store.h"

namespace dbbackup::catalog {
namespace {

void Put(store::ObjectStore& s, const std::string& key, const store::Metadata& meta = {}) {
  StringReader body("data");
  store::PutOptions o;
  o.metadata = meta;
  ASSERT_TRUE(s.Put(key, body, o).ok());
}

TEST(CatalogTest, NewestFirstIgnoringForeignObjects) {
  store::MemObjectStore s;
  Put(s, "backups/full/20240113_120000/database.db.gz");
  Put(s, "backups/full/20240115_120000/database.db.gz");
  Put(s, "backups/full/20240114_120000/database.db.gz");
  Put(s, "backups/full/README");
  Put(s, "backups/other/20240116_120000/database.db.gz");
  auto list = ListBackups(s, "backups");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].key, "backups/full/20240115_120000/database.db.gz");
  EXPECT_EQ((*list)[2].key, "backups/full/20240113_120000/database.db.gz");
  EXPECT_EQ((*list)[0].compressed_size, 4u);
  auto latest = LatestBackup(s, "backups");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->key, (*list)[0].key);
}

TEST(CatalogTest, PaginatesPastOnePage) {
  store::MemObjectStore s(store::MemStoreOptions{7, nullptr});
  for (int i = 0; i < 30; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "202401%02d_120000", i + 1);
    Put(s, std::string("backups/full/") + ts + "/database.db.gz");
  }
  auto list = ListBackups(s, "backups");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 30u);
}

TEST(CatalogTest, MetadataIsReadWhenAsked) {
  store::MemObjectStore s;
  BackupMetadata m;
  m.timestamp = "2024-01-13T12:00:00Z";
  m.original_size = 100;
  m.compressed_size = 4;
  m.sha256 = std::string(64, 'a');
  Put(s, "backups/full/20240113_120000/database.db.gz", ToObjectMetadata(m));
  Put(s, "backups/full/20240114_120000/database.db.gz");  // no metadata
  ListOptions o;
  o.with_metadata = true;
  auto list = ListBackups(s, "backups", o);
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE((*list)[0].metadata);
  EXPECT_FALSE((*list)[0].metadata_error.empty());
  ASSERT_TRUE((*list)[1].metadata);
  EXPECT_EQ((*list)[1].metadata->original_size, 100u);
}

TEST(CatalogTest, EmptyStore) {
  store::MemObjectStore s;
  auto latest = LatestBackup(s, "backups");
  EXPECT_EQ(latest.status().code(), StatusCode::kNotFound);
  EXPECT_NE(latest.status().message().find("no backups found"), std::string::npos);
}

TEST(MetadataTest, RoundTripAndSeedCompatibility) {
  BackupMetadata m;
  m.timestamp = "2024-01-13T12:00:00Z";
  m.original_size = 978432;
  m.compressed_size = 145234;
  m.database_path = "database.db";
  m.sha256 = "ab";
  m.compression = "gzip";
  m.tables = 10;
  m.records = 1543;
  auto back = FromObjectMetadata(ToObjectMetadata(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->records, 1543);
  EXPECT_EQ(back->compression, "gzip");
  // The Python system's metadata only: still readable.
  store::Metadata seed = {{"timestamp", "2024-01-13T12:00:00.123456"},
                          {"original-size", "978432"},
                          {"compressed-size", "145234"},
                          {"backup-type", "full"},
                          {"database-path", "database.db"}};
  auto s = FromObjectMetadata(seed);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->sha256.empty());
  EXPECT_EQ(s->tables, -1);
  seed["original-size"] = "lots";
  EXPECT_EQ(FromObjectMetadata(seed).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace dbbackup::catalog

namespace dbbackup::catalog {
namespace {

TEST(CatalogTest, MetadataOfManyBackupsIsFetchedInParallel) {
  store::MemObjectStore s;
  for (int i = 0; i < 50; ++i) {
    BackupMetadata m;
    TimePoint t = TimePoint(std::chrono::seconds(1705147200)) + std::chrono::minutes(i);
    m.timestamp = FormatIsoTimestamp(t);
    m.original_size = 1000 + static_cast<uint64_t>(i);
    m.compressed_size = 4;
    Put(s, FullBackupKey("backups", t, "database.db", ".gz"), ToObjectMetadata(m));
  }
  ListOptions o;
  o.with_metadata = true;
  auto list = ListBackups(s, "backups", o);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 50u);
  for (size_t i = 0; i < list->size(); ++i) {
    ASSERT_TRUE((*list)[i].metadata) << i;
    EXPECT_EQ((*list)[i].metadata->original_size, 1000 + 49 - i);  // newest first
  }
  EXPECT_EQ(s.call_counts().head, 50u);
}

}  // namespace
}  // namespace dbbackup::catalog
