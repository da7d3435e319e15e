// The dbbackup binary end to end against Ceph RGW (owner credentials), as a
// user runs it: backup, list, restore and verify, with the aws CLI, gunzip
// and sqlite as independent judges of what landed in the bucket; the seed
// system's command forms; configuration from ./.env; the --json documents.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;

// backups/full/YYYYMMDD_HHMMSS/<db name><ext>
::testing::AssertionResult IsBackupKey(const std::string& key, const std::string& prefix,
                                       const std::string& file) {
  static const std::regex kStamp(R"(^(\d{8})_(\d{6})$)");
  const std::string head = prefix + "/full/";
  const std::string tail = "/" + file;
  if (!key.starts_with(head) || !key.ends_with(tail) ||
      key.size() != head.size() + 15 + tail.size()) {
    return ::testing::AssertionFailure()
           << "'" << key << "' is not " << head << "YYYYMMDD_HHMMSS" << tail;
  }
  std::string stamp = key.substr(head.size(), 15);
  if (!std::regex_match(stamp, kStamp)) {
    return ::testing::AssertionFailure() << "'" << key << "' has timestamp '" << stamp << "'";
  }
  return ::testing::AssertionSuccess();
}

class CliS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("cli-s3");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    box_.UseS3(env_.rgw_owner, bucket_);
  }

  // Runs dbbackup ARGS --json, expecting success and one JSON document.
  nlohmann::json RunJson(const std::vector<std::string>& args) {
    std::vector<std::string> argv = args;
    argv.push_back("--json");
    ProcessResult r = box_.Run(argv);
    nlohmann::json j;
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    return j;
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  CliSandbox box_;
};

TEST_F(CliS3Test, BackupIsAPlainGzipObjectThatTheAwsCliAndGunzipRestore) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db));
  const std::string source_dump = DumpDb(db);
  ASSERT_FALSE(source_dump.starts_with("ERROR")) << source_dump;
  box_.Set("DATABASE_PATH", db);

  // backup --json
  nlohmann::json backup = RunJson({"backup"});
  ASSERT_TRUE(backup.is_object()) << backup;
  const std::string key = backup.value("key", "");
  ASSERT_TRUE(IsBackupKey(key, "backups", "app.db.gz"));
  EXPECT_EQ(backup["original_size"], fs::file_size(db));
  EXPECT_GT(backup["compressed_size"].get<uint64_t>(), 0u);
  EXPECT_LT(backup["compressed_size"].get<uint64_t>(), fs::file_size(db));
  EXPECT_EQ(backup["tables"], 3);
  EXPECT_EQ(backup["records"], CountRows(db));
  EXPECT_EQ(backup["compression"], "gzip");
  EXPECT_EQ(backup["verified"], true);
  EXPECT_EQ(backup["dry_run"], false);

  // list --json: the one backup, with its sizes.
  nlohmann::json list = RunJson({"list"});
  ASSERT_TRUE(list.is_array()) << list;
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["key"], key);
  EXPECT_EQ(list[0]["timestamp"], backup["timestamp"]);
  EXPECT_EQ(list[0]["original_size"], backup["original_size"]);
  EXPECT_EQ(list[0]["compressed_size"], backup["compressed_size"]);

  // The aws CLI, an independent client, sees the same object and metadata.
  std::vector<std::string> keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "backups/", &keys));
  EXPECT_EQ(keys, std::vector<std::string>{key});
  nlohmann::json head;
  ASSERT_TRUE(AwsHeadObject(env_.rgw_owner, bucket_, key, &head));
  EXPECT_EQ(head["ContentLength"], backup["compressed_size"]) << head;
  const nlohmann::json meta = head.value("Metadata", nlohmann::json::object());
  for (const char* name :
       {"timestamp", "original-size", "compressed-size", "backup-type", "database-path", "sha256",
        "compression", "tables", "records", "dbbackup-version", "compressed-md5"}) {
    EXPECT_TRUE(meta.contains(name)) << "metadata lacks " << name << ": " << head;
  }
  EXPECT_EQ(meta.value("timestamp", ""), backup["timestamp"]);
  EXPECT_EQ(meta.value("original-size", ""), std::to_string(fs::file_size(db)));
  EXPECT_EQ(meta.value("compressed-size", ""),
            std::to_string(backup["compressed_size"].get<uint64_t>()));
  EXPECT_EQ(meta.value("backup-type", ""), "full");
  EXPECT_EQ(meta.value("database-path", ""), db);
  EXPECT_EQ(meta.value("sha256", ""), backup["sha256"]);
  EXPECT_EQ(meta.value("compression", ""), "gzip");
  EXPECT_EQ(meta.value("tables", ""), "3");
  EXPECT_EQ(meta.value("records", ""), std::to_string(CountRows(db)));
  EXPECT_FALSE(meta.value("dbbackup-version", "").empty());

  // aws s3 cp + the real gunzip give back the database.
  const std::string gz = box_.Path("download.db.gz");
  ProcessResult cp =
      RunAws(env_.rgw_owner, {"s3", "cp", "--only-show-errors", "s3://" + bucket_ + "/" + key, gz});
  ASSERT_TRUE(cp.ok()) << cp.Describe();
  EXPECT_EQ(Md5OfFile(gz), meta.value("compressed-md5", "?"));
  ProcessResult gunzip = RunProcess({"gunzip", gz});
  ASSERT_TRUE(gunzip.ok()) << gunzip.Describe();
  const std::string plain = box_.Path("download.db");
  EXPECT_EQ(IntegrityCheck(plain), "ok");
  EXPECT_EQ(DumpDb(plain), source_dump);
  EXPECT_EQ(fs::file_size(plain), fs::file_size(db));
  EXPECT_EQ(Sha256OfFile(plain), backup["sha256"]);

  // restore KEY --to: a new file equal to the source.
  const std::string restored = box_.Path("restored.db");
  ProcessResult restore = box_.Run({"restore", key, "--to", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(IntegrityCheck(restored), "ok");
  EXPECT_EQ(DumpDb(restored), source_dump);
  EXPECT_EQ(DumpDb(db), source_dump) << "restore --to must not touch DATABASE_PATH";

  // verify --deep.
  ProcessResult verify = box_.Run({"verify", key, "--deep"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_TRUE(verify.stdout_text.starts_with("OK " + key)) << verify.Describe();
}

TEST_F(CliS3Test, SeedFormsBackUpListAndRestore) {
  // The seed's default database: ./database.db.
  const std::string db = box_.Path("database.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 2, .rows_per_table = 300}));
  const std::string original = DumpDb(db);

  // `dbbackup` with no arguments backs up.
  ProcessResult backup = box_.Run({});
  ASSERT_EQ(backup.exit_code, 0) << backup.Describe();
  std::smatch m;
  static const std::regex kComplete(R"(Backup complete: (\S+))");
  ASSERT_TRUE(std::regex_search(backup.stdout_text, m, kComplete)) << backup.Describe();
  const std::string key = m[1];
  ASSERT_TRUE(IsBackupKey(key, "backups", "database.db.gz"));
  std::vector<std::string> keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "backups/", &keys));
  EXPECT_EQ(keys, std::vector<std::string>{key});

  // `dbbackup --list`.
  ProcessResult list = box_.Run({"--list"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_NE(list.stdout_text.find(key), std::string::npos) << list.Describe();

  // `dbbackup --restore KEY` replaces ./database.db and keeps the old one.
  ASSERT_TRUE(AddRows(db, "t0", 25));
  const std::string changed = DumpDb(db);
  ASSERT_NE(changed, original);
  ProcessResult restore = box_.Run({"--restore", key});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(DumpDb(db), original);
  static const std::regex kKept(R"(Previous database kept at: (\S+))");
  ASSERT_TRUE(std::regex_search(restore.stdout_text, m, kKept)) << restore.Describe();
  // Printed as given: relative to the working directory, like DATABASE_PATH.
  const std::string safety = (fs::path(box_.WorkDir()) / std::string(m[1])).string();
  ASSERT_TRUE(fs::exists(safety)) << safety;
  EXPECT_EQ(DumpDb(safety), changed);

  // `dbbackup --restore` without a key restores the newest backup.
  ASSERT_TRUE(AddRows(db, "t1", 5));
  ProcessResult latest = box_.Run({"--restore"});
  ASSERT_EQ(latest.exit_code, 0) << latest.Describe();
  EXPECT_NE(latest.stdout_text.find(key), std::string::npos) << latest.Describe();
  EXPECT_EQ(DumpDb(db), original);
}

TEST_F(CliS3Test, DotEnvSuppliesTheConfigurationAndTheEnvironmentWins) {
  ASSERT_TRUE(CreateTestDb(box_.Path("shop.db"), {.tables = 1, .rows_per_table = 200}));
  // Everything from ./.env, in the forms python-dotenv users write.
  const S3Target& t = env_.rgw_owner;
  WriteFileOrFail(box_.Path(".env"),
                  "# dbbackup settings\n"
                  "export AWS_ACCESS_KEY_ID=" +
                      t.credentials.access_key +
                      "\n"
                      "AWS_SECRET_ACCESS_KEY=\"" +
                      t.credentials.secret_key +
                      "\"\n"
                      "AWS_REGION='us-east-1'\n"
                      "S3_ENDPOINT_URL=" +
                      t.endpoint +
                      "  # loopback RGW\n"
                      "S3_BACKUP_BUCKET=" +
                      bucket_ +
                      "\n"
                      "\n"
                      "DATABASE_PATH=shop.db\n"
                      "BACKUP_PREFIX=from-dotenv\n");
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                           "S3_ENDPOINT_URL", "S3_BACKUP_BUCKET"}) {
    box_.Unset(name);
  }
  nlohmann::json backup = RunJson({"backup"});
  const std::string key = backup.value("key", "");
  EXPECT_TRUE(IsBackupKey(key, "from-dotenv", "shop.db.gz"));
  std::vector<std::string> keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "", &keys));
  EXPECT_EQ(keys, std::vector<std::string>{key});

  nlohmann::json list = RunJson({"list"});
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["key"], key);

  // The environment wins over .env (as python-dotenv does).
  box_.Set("BACKUP_PREFIX", "from-environment");
  nlohmann::json other = RunJson({"list"});
  EXPECT_EQ(other, nlohmann::json::array()) << other;
  box_.Set("S3_BACKUP_BUCKET", UniqueBucketName("cli-absent"));
  ProcessResult absent = box_.Run({"list"});
  EXPECT_EQ(absent.exit_code, 1) << absent.Describe();
  EXPECT_TRUE(OneErrorLine(absent, {"does not exist"}));
}

TEST_F(CliS3Test, JsonOutputsAreOneDocumentWithTheDocumentedFields) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 2, .rows_per_table = 400}));
  box_.Set("DATABASE_PATH", db);

  nlohmann::json backup = RunJson({"backup", "--compression", "zstd"});
  for (const char* f : {"key", "timestamp", "original_size", "compressed_size", "sha256", "tables",
                        "records", "duration_s"}) {
    EXPECT_TRUE(backup.contains(f)) << "backup --json lacks " << f << ": " << backup;
  }
  const std::string key = backup.value("key", "");
  EXPECT_TRUE(IsBackupKey(key, "backups", "app.db.zst"));
  EXPECT_TRUE(std::regex_match(backup.value("timestamp", ""),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << backup;
  EXPECT_TRUE(std::regex_match(backup.value("sha256", ""), std::regex("[0-9a-f]{64}"))) << backup;
  EXPECT_TRUE(backup["duration_s"].is_number()) << backup;
  EXPECT_EQ(backup["compression"], "zstd");
  EXPECT_EQ(backup["tables"], 2);
  EXPECT_EQ(backup["records"], 800);

  nlohmann::json list = RunJson({"list"});
  ASSERT_TRUE(list.is_array() && list.size() == 1) << list;
  for (const char* f : {"key", "timestamp", "original_size", "compressed_size"}) {
    EXPECT_TRUE(list[0].contains(f)) << "list --json lacks " << f << ": " << list;
  }
  EXPECT_EQ(list[0]["compression"], "zstd");

  nlohmann::json verify = RunJson({"verify"});
  EXPECT_EQ(verify["key"], key);
  EXPECT_EQ(verify["ok"], true) << verify;
  EXPECT_EQ(verify["deep"], false);
  EXPECT_TRUE(verify["checks"].is_array() && !verify["checks"].empty()) << verify;

  const std::string target = box_.Path("copy.db");
  nlohmann::json restore = RunJson({"restore", key, "--to", target});
  EXPECT_EQ(restore["key"], key);
  EXPECT_EQ(restore["target"], target);
  EXPECT_TRUE(restore["safety_copy"].is_null()) << "nothing was replaced: " << restore;
  EXPECT_EQ(restore["sha256"], backup["sha256"]);
  EXPECT_EQ(restore["checksum_verified"], true);
  EXPECT_EQ(restore["records"], 800);
  EXPECT_EQ(DumpDb(target), DumpDb(db));

  nlohmann::json prune = RunJson({"prune", "--dry-run"});
  EXPECT_EQ(prune["deleted"], nlohmann::json::array()) << prune;
  EXPECT_EQ(prune["kept"], nlohmann::json::array({key})) << prune;
  EXPECT_EQ(prune["dry_run"], true);

  // A failure with --json is still one JSON document on stdout, plus one line
  // on stderr.
  const std::string missing = "backups/full/20200101_000000/app.db.gz";
  ProcessResult failed = box_.Run({"restore", missing, "--to", target, "--json"});
  EXPECT_EQ(failed.exit_code, 1) << failed.Describe();
  nlohmann::json error;
  ASSERT_TRUE(ParseJsonStdout(failed, &error));
  EXPECT_EQ(error.value("error", ""), "backup not found: " + missing) << error;
  EXPECT_TRUE(error.contains("code")) << error;
  EXPECT_TRUE(OneErrorLine(failed, {"backup not found: " + missing}));
}

}  // namespace
}  // namespace dbbackup::testing
