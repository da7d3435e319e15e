// Retention through the dbbackup binary on Ceph RGW: `prune` and the cleanup
// that follows `backup` delete expired backups but never the newest, dry runs
// delete nothing, and the seed system's least-privilege policy is enough for
// every command (without s3:DeleteObject, backups still succeed and the
// retention failure is reported).
//
// Old backups are made with the aws CLI: server-side copies of a real backup
// under keys with old timestamps, with the metadata timestamp to match.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

// "20200101_000000" -> "2020-01-01T00:00:00Z"
std::string IsoFromStamp(const std::string& s) {
  return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(9, 2) + ":" +
         s.substr(11, 2) + ":" + s.substr(13, 2) + "Z";
}

std::string OldKey(const std::string& stamp) { return "backups/full/" + stamp + "/app.db.gz"; }

class CliPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("cli-prune");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    Use(env_.rgw_owner);
    db_ = box_.Path("app.db");
    ASSERT_TRUE(CreateTestDb(db_, {.tables = 1, .rows_per_table = 200}));
    box_.Set("DATABASE_PATH", db_);
  }

  // Runs dbbackup as `user` from now on (and makes old copies as them).
  void Use(const S3Target& user) {
    user_ = user;
    box_.UseS3(user, bucket_);
  }

  nlohmann::json RunJson(const std::vector<std::string>& args, ProcessResult* out = nullptr) {
    std::vector<std::string> argv = args;
    argv.push_back("--json");
    ProcessResult r = box_.Run(argv);
    nlohmann::json j;
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    if (out != nullptr) *out = r;
    return j;
  }

  std::string Backup(const std::vector<std::string>& extra = {"--no-prune"}) {
    std::vector<std::string> args = {"backup"};
    args.insert(args.end(), extra.begin(), extra.end());
    nlohmann::json j = RunJson(args);
    return j.is_object() ? j.value("key", "") : "";
  }

  // Copies backup `key` to an old-looking key per stamp (in parallel: each
  // aws CLI run costs a second or two); returns the keys.
  std::vector<std::string> MakeOld(const std::string& key, const std::vector<std::string>& stamps) {
    nlohmann::json head;
    EXPECT_TRUE(AwsHeadObject(user_, bucket_, key, &head));
    std::vector<std::string> keys;
    std::vector<::testing::AssertionResult> results(stamps.size(), ::testing::AssertionSuccess());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < stamps.size(); ++i) {
      nlohmann::json meta = head.value("Metadata", nlohmann::json::object());
      meta["timestamp"] = IsoFromStamp(stamps[i]);
      keys.push_back(OldKey(stamps[i]));
      threads.emplace_back([this, &results, i, key, meta, dest = keys.back()] {
        results[i] = AwsCopyObject(user_, bucket_, key, dest, meta);
      });
    }
    for (std::thread& t : threads) t.join();
    for (const auto& r : results) EXPECT_TRUE(r);
    return keys;
  }

  // The keys `dbbackup list` shows, oldest first (cheap; for the steps in
  // between). The end state of each test is checked with the aws CLI.
  std::vector<std::string> Listed() {
    nlohmann::json list = RunJson({"list"});
    std::vector<std::string> keys;
    for (const auto& e : list) keys.push_back(e.value("key", ""));
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // Every key in the bucket, by the aws CLI.
  std::vector<std::string> Keys() { return BucketKeys(env_.rgw_owner, bucket_); }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  S3Target user_;
  CliSandbox box_;
  std::string db_;
};

TEST_F(CliPruneTest, DeletesOnlyExpiredBackupsAndDryRunDeletesNothing) {
  const std::string recent = Backup();
  ASSERT_FALSE(recent.empty());
  std::vector<std::string> old = MakeOld(recent, {"20200101_000000", "20210615_120000"});
  const std::vector<std::string> all = {old[0], old[1], recent};
  ASSERT_EQ(Listed(), all);

  nlohmann::json dry = RunJson({"prune", "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(dry["deleted"], nlohmann::json({old[1], old[0]})) << dry;
  EXPECT_EQ(dry["kept"], nlohmann::json({recent})) << dry;
  EXPECT_EQ(Listed(), all) << "prune --dry-run deleted something";

  // Retention 0 keeps everything.
  nlohmann::json forever = RunJson({"prune", "--retention-days", "0"});
  EXPECT_EQ(forever["deleted"], nlohmann::json::array()) << forever;
  EXPECT_EQ(Listed(), all);

  nlohmann::json pruned = RunJson({"prune"});
  EXPECT_EQ(pruned["dry_run"], false);
  EXPECT_EQ(pruned["deleted"], nlohmann::json({old[1], old[0]})) << pruned;
  EXPECT_EQ(Keys(), std::vector<std::string>{recent});
}

TEST_F(CliPruneTest, WhenEveryBackupIsOldTheNewestSurvives) {
  const std::string recent = Backup();
  ASSERT_FALSE(recent.empty());
  std::vector<std::string> old =
      MakeOld(recent, {"20200101_000000", "20200201_000000", "20200301_000000"});
  ProcessResult rm =
      RunAws(env_.rgw_owner, {"s3api", "delete-object", "--bucket", bucket_, "--key", recent});
  ASSERT_TRUE(rm.ok()) << rm.Describe();
  ASSERT_EQ(Listed(), old);

  // --min-keep 2 keeps the two newest.
  nlohmann::json two = RunJson({"prune", "--min-keep", "2"});
  EXPECT_EQ(two["deleted"], nlohmann::json({old[0]})) << two;
  EXPECT_EQ(Listed(), (std::vector<std::string>{old[1], old[2]}));

  // Default (BACKUP_MIN_KEEP 1): the newest old one survives, even with a
  // retention of one day.
  nlohmann::json one = RunJson({"prune", "--retention-days", "1"});
  EXPECT_EQ(one["deleted"], nlohmann::json({old[1]})) << one;
  EXPECT_EQ(one["kept"], nlohmann::json({old[2]})) << one;
  EXPECT_EQ(Keys(), std::vector<std::string>{old[2]});

  // The survivor is the latest, and restorable.
  ProcessResult restore = box_.Run({"restore", "--to", box_.Path("survivor.db")});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_NE(restore.stdout_text.find(old[2]), std::string::npos) << restore.Describe();
  EXPECT_EQ(DumpDb(box_.Path("survivor.db")), DumpDb(db_));
}

TEST_F(CliPruneTest, RetentionRunsAfterBackup) {
  const std::string first = Backup();
  ASSERT_FALSE(first.empty());
  std::vector<std::string> old = MakeOld(first, {"20200101_000000", "20200102_000000"});

  // --no-prune leaves them.
  const std::string second = Backup({"--no-prune"});
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(Listed(), (std::vector<std::string>{old[0], old[1], first, second}));

  nlohmann::json third = RunJson({"backup"});
  EXPECT_EQ(third["pruned"], nlohmann::json({old[1], old[0]})) << third;
  EXPECT_FALSE(third.contains("prune_error")) << third;
  const std::string third_key = third.value("key", "");
  EXPECT_EQ(Listed(), (std::vector<std::string>{first, second, third_key}));

  // BACKUP_RETENTION_DAYS from the environment applies too: with 0 nothing goes.
  MakeOld(first, {"20200103_000000"});
  box_.Set("BACKUP_RETENTION_DAYS", "0");
  nlohmann::json fourth = RunJson({"backup"});
  EXPECT_EQ(fourth["pruned"], nlohmann::json::array()) << fourth;
  EXPECT_EQ(Keys().size(), 5u);
}

TEST_F(CliPruneTest, SeedPolicyUserCanBackUpListRestoreVerifyAndPrune) {
  ASSERT_TRUE(AttachSeedBucketPolicy(env_.rgw_owner, bucket_, SeedPolicy::kFull));
  Use(env_.rgw_backup);
  const std::string first = Backup();
  ASSERT_FALSE(first.empty());
  std::vector<std::string> old = MakeOld(first, {"20200101_000000"});

  nlohmann::json backup = RunJson({"backup"});
  const std::string key = backup.value("key", "");
  EXPECT_EQ(backup["pruned"], nlohmann::json({old[0]})) << backup;
  EXPECT_FALSE(backup.contains("prune_error")) << backup;

  nlohmann::json list = RunJson({"list"});
  ASSERT_TRUE(list.is_array() && list.size() == 2) << list;
  EXPECT_EQ(list[0]["key"], key);
  EXPECT_EQ(list[1]["key"], first);

  nlohmann::json restore = RunJson({"restore", key, "--to", box_.Path("restored.db")});
  EXPECT_EQ(restore["checksum_verified"], true) << restore;
  EXPECT_EQ(DumpDb(box_.Path("restored.db")), DumpDb(db_));

  nlohmann::json verify = RunJson({"verify", key, "--deep"});
  EXPECT_EQ(verify["ok"], true) << verify;

  MakeOld(first, {"20200202_000000"});
  nlohmann::json prune = RunJson({"prune"});
  EXPECT_EQ(prune["deleted"], nlohmann::json({OldKey("20200202_000000")})) << prune;
  EXPECT_EQ(Keys(), (std::vector<std::string>{first, key}));
}

TEST_F(CliPruneTest, WithoutDeleteObjectBackupSucceedsAndPruneFailsClearly) {
  ASSERT_TRUE(AttachSeedBucketPolicy(env_.rgw_owner, bucket_, SeedPolicy::kWithoutDelete));
  Use(env_.rgw_backup);
  const std::string first = Backup();
  ASSERT_FALSE(first.empty());
  std::vector<std::string> old = MakeOld(first, {"20200101_000000"});

  // The backup is good: exit 0, and the retention failure is reported.
  ProcessResult r;
  nlohmann::json backup = RunJson({"backup"}, &r);
  const std::string key = backup.value("key", "");
  ASSERT_FALSE(key.empty()) << backup;
  EXPECT_EQ(backup["verified"], true);
  const std::string prune_error = backup.value("prune_error", "");
  EXPECT_NE(prune_error.find("access denied"), std::string::npos) << backup;
  EXPECT_NE(prune_error.find("s3:DeleteObject"), std::string::npos) << backup;
  EXPECT_NE(r.stderr_text.find("warning: retention"), std::string::npos) << r.Describe();
  EXPECT_EQ(Listed(), (std::vector<std::string>{old[0], first, key}));

  // Also in the human form.
  ProcessResult human = box_.Run({"backup"});
  EXPECT_EQ(human.exit_code, 0) << human.Describe();
  EXPECT_NE(human.stderr_text.find("s3:DeleteObject"), std::string::npos) << human.Describe();

  // prune itself fails, clearly.
  ProcessResult prune = box_.Run({"prune"});
  EXPECT_EQ(prune.exit_code, 1) << prune.Describe();
  EXPECT_TRUE(OneErrorLine(prune, {"access denied", "s3:DeleteObject"}));
  ProcessResult prune_json = box_.Run({"prune", "--json"});
  EXPECT_EQ(prune_json.exit_code, 1) << prune_json.Describe();
  nlohmann::json error;
  ASSERT_TRUE(ParseJsonStdout(prune_json, &error));
  EXPECT_NE(error.value("error", "").find("s3:DeleteObject"), std::string::npos) << error;
  EXPECT_EQ(Keys().size(), 4u) << "nothing could be deleted";

  // Everything else still works for this user.
  ProcessResult verify = box_.Run({"verify", key, "--deep"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

}  // namespace
}  // namespace dbbackup::testing
