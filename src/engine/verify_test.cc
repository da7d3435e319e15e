#include "engine/verify.h"

#include <gtest/gtest.h>

#include "engine/backup.h"
#include "engine/test_db.h"

namespace dbbackup::engine {
namespace {

using testing::EngineTest;

class VerifyTest : public EngineTest {
 protected:
  std::string Backup() {
    BackupOptions o;
    o.db_path = db_;
    o.temp_dir = dir_;
    auto r = RunBackup(ctx_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->key : "";
  }
  VerifyOptions Options(bool deep) {
    VerifyOptions o;
    o.deep = deep;
    o.temp_dir = dir_;
    return o;
  }
};

TEST_F(VerifyTest, GoodBackupPassesShallowAndDeep) {
  testing::MakeDb(db_, 100);
  const std::string key = Backup();
  for (bool deep : {false, true}) {
    auto r = RunVerify(ctx_, Options(deep));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->ok) << r->FirstFailure();
    EXPECT_EQ(r->key, key);
  }
  auto deep = RunVerify(ctx_, Options(true));
  std::vector<std::string> names;
  for (const auto& c : deep->checks) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"exists", "metadata", "size", "md5", "sha256",
                                             "integrity", "counts"}));
}

TEST_F(VerifyTest, CorruptContentFailsDeepAndMd5) {
  testing::MakeDb(db_, 100);
  const std::string key = Backup();
  auto head = mem_.Head(key);
  std::string body = *mem_.Contents(key);
  body[body.size() / 3] ^= 0x01;
  StringReader reader(body);
  store::PutOptions po;
  po.metadata = head->metadata;
  ASSERT_TRUE(mem_.Put(key, reader, po).ok());
  auto shallow = RunVerify(ctx_, Options(false));
  ASSERT_TRUE(shallow.ok());
  EXPECT_FALSE(shallow->ok);
  EXPECT_NE(shallow->FirstFailure().find("md5"), std::string::npos);
  auto deep = RunVerify(ctx_, Options(true));
  ASSERT_TRUE(deep.ok());
  EXPECT_FALSE(deep->ok);
}

TEST_F(VerifyTest, MissingMetadataFails) {
  testing::MakeDb(db_, 10);
  const std::string key = Backup();
  std::string body = *mem_.Contents(key);
  StringReader reader(body);
  ASSERT_TRUE(mem_.Put(key, reader, store::PutOptions{}).ok());
  auto r = RunVerify(ctx_, Options(false));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->FirstFailure().find("metadata"), std::string::npos);
}

TEST_F(VerifyTest, UnknownKeyIsNotFound) {
  testing::MakeDb(db_, 10);
  Backup();
  auto o = Options(false);
  o.key = "backups/full/20200101_000000/database.db.gz";
  auto r = RunVerify(ctx_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "backup not found: " + o.key);
}

}  // namespace
}  // namespace dbbackup::engine
