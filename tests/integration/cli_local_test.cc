// Local mode (no bucket, no AWS credentials): the dbbackup binary keeps its
// backups in BACKUP_LOCAL_DIR with the S3 key layout and a
// "<key>.meta.json" sidecar per backup, and every command works there.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;

// Every regular file under `root`, relative to it, sorted.
std::vector<std::string> FilesUnder(const std::string& root) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CliLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = box_.Path("store");
    tmp_ = box_.Path("tmp");
    fs::create_directory(tmp_);
    box_.Set("BACKUP_LOCAL_DIR", store_);
    box_.Set("BACKUP_TMP_DIR", tmp_);
    db_ = box_.Path("app.db");
    ASSERT_TRUE(CreateTestDb(db_, {.tables = 2, .rows_per_table = 500}));
    box_.Set("DATABASE_PATH", db_);
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

  // Copies backup `key` (data file and sidecar) to `new_key`, as if made then.
  void CopyBackup(const std::string& key, const std::string& new_key) {
    fs::create_directories(fs::path(store_ + "/" + new_key).parent_path());
    fs::copy_file(store_ + "/" + key, store_ + "/" + new_key);
    fs::copy_file(store_ + "/" + key + ".meta.json", store_ + "/" + new_key + ".meta.json");
  }

  CliSandbox box_;
  std::string store_;
  std::string tmp_;
  std::string db_;
};

TEST_F(CliLocalTest, BackupListRestoreVerifyWithTheS3LayoutAndASidecar) {
  const std::string dump = DumpDb(db_);
  ProcessResult r;
  nlohmann::json backup = RunJson({"backup"}, &r);
  EXPECT_NE(r.stderr_text.find("local mode"), std::string::npos) << r.Describe();
  const std::string key = backup.value("key", "");
  ASSERT_TRUE(key.starts_with("backups/full/") && key.ends_with("/app.db.gz")) << backup;
  ASSERT_EQ(key.size(), std::string("backups/full/YYYYMMDD_HHMMSS/app.db.gz").size()) << key;
  EXPECT_EQ(FilesUnder(store_), (std::vector<std::string>{key, key + ".meta.json"}));
  EXPECT_EQ(FilesUnder(tmp_), std::vector<std::string>{}) << "temporary files left behind";

  // The sidecar: the object's size, MD5 and the backup metadata.
  const std::string data = store_ + "/" + key;
  nlohmann::json sidecar = nlohmann::json::parse(ReadFileOrEmpty(data + ".meta.json"), nullptr,
                                                 /*allow_exceptions=*/false);
  ASSERT_TRUE(sidecar.is_object()) << ReadFileOrEmpty(data + ".meta.json");
  EXPECT_EQ(sidecar["size"], fs::file_size(data));
  EXPECT_EQ(sidecar["etag"], Md5OfFile(data));
  EXPECT_EQ(backup["compressed_size"], fs::file_size(data));
  const nlohmann::json meta = sidecar.value("metadata", nlohmann::json::object());
  for (const char* name :
       {"timestamp", "original-size", "compressed-size", "backup-type", "database-path", "sha256",
        "compression", "tables", "records", "dbbackup-version", "compressed-md5"}) {
    EXPECT_TRUE(meta.contains(name)) << "sidecar metadata lacks " << name << ": " << sidecar;
  }
  EXPECT_EQ(meta.value("sha256", ""), backup["sha256"]);
  EXPECT_EQ(meta.value("backup-type", ""), "full");
  EXPECT_EQ(meta.value("database-path", ""), db_);

  // The data file is a plain gzip of the database.
  const std::string copy = box_.Path("copy.db");
  ProcessResult gunzip = RunProcess({"sh", "-c", "gunzip -c \"$0\" > \"$1\"", data, copy});
  ASSERT_TRUE(gunzip.ok()) << gunzip.Describe();
  EXPECT_EQ(DumpDb(copy), dump);

  nlohmann::json list = RunJson({"list"});
  ASSERT_TRUE(list.is_array() && list.size() == 1) << list;
  EXPECT_EQ(list[0]["key"], key);
  EXPECT_EQ(list[0]["original_size"], fs::file_size(db_));

  const std::string restored = box_.Path("restored.db");
  ProcessResult restore = box_.Run({"restore", key, "--to", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(DumpDb(restored), dump);
  EXPECT_EQ(IntegrityCheck(restored), "ok");

  nlohmann::json verify = RunJson({"verify", "--deep"});
  EXPECT_EQ(verify["key"], key);
  EXPECT_EQ(verify["ok"], true) << verify;
  EXPECT_EQ(verify["deep"], true);

  // The latest backup over DATABASE_PATH, with a safety copy of the old one.
  ASSERT_TRUE(AddRows(db_, "t0", 7));
  const std::string changed = DumpDb(db_);
  nlohmann::json over = RunJson({"restore"});
  EXPECT_EQ(over["key"], key);
  EXPECT_EQ(DumpDb(db_), dump);
  ASSERT_TRUE(over["safety_copy"].is_string()) << over;
  EXPECT_EQ(DumpDb(over["safety_copy"].get<std::string>()), changed);
  EXPECT_EQ(FilesUnder(tmp_), std::vector<std::string>{}) << "temporary files left behind";
}

TEST_F(CliLocalTest, DefaultStoreIsBackupsLocalInTheWorkingDirectory) {
  box_.Unset("BACKUP_LOCAL_DIR");
  box_.Unset("DATABASE_PATH");
  ASSERT_TRUE(CreateTestDb(box_.Path("database.db"), {.tables = 1, .rows_per_table = 20}));
  ProcessResult r = box_.Run({});  // the seed form: back up ./database.db
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.stderr_text.find("local mode"), std::string::npos) << r.Describe();
  std::vector<std::string> files = FilesUnder(box_.Path("backups-local"));
  ASSERT_EQ(files.size(), 2u) << ::testing::PrintToString(files);
  EXPECT_TRUE(files[0].starts_with("backups/full/") && files[0].ends_with("/database.db.gz"))
      << files[0];
  EXPECT_EQ(files[1], files[0] + ".meta.json");
}

TEST_F(CliLocalTest, DryRunWritesNothing) {
  nlohmann::json backup = RunJson({"backup", "--dry-run"});
  EXPECT_EQ(backup["dry_run"], true) << backup;
  EXPECT_EQ(backup["records"], 1000);
  EXPECT_GT(backup["compressed_size"].get<uint64_t>(), 0u);
  EXPECT_EQ(FilesUnder(store_), std::vector<std::string>{}) << "a dry run stored a backup";
  EXPECT_EQ(FilesUnder(tmp_), std::vector<std::string>{}) << "temporary files left behind";
  nlohmann::json list = RunJson({"list"});
  EXPECT_EQ(list, nlohmann::json::array());
}

TEST_F(CliLocalTest, PruneKeepsTheNewestAndDryRunDeletesNothing) {
  nlohmann::json backup = RunJson({"backup"});
  const std::string key = backup.value("key", "");
  ASSERT_FALSE(key.empty());
  const std::vector<std::string> old = {"backups/full/20200101_000000/app.db.gz",
                                        "backups/full/20200102_000000/app.db.gz"};
  for (const std::string& k : old) CopyBackup(key, k);
  const std::vector<std::string> all = FilesUnder(store_);
  ASSERT_EQ(all.size(), 6u);

  nlohmann::json dry = RunJson({"prune", "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(dry["deleted"], nlohmann::json({old[1], old[0]})) << dry;
  EXPECT_EQ(dry["kept"], nlohmann::json({key})) << dry;
  EXPECT_EQ(FilesUnder(store_), all) << "a dry run deleted something";

  nlohmann::json pruned = RunJson({"prune"});
  EXPECT_EQ(pruned["deleted"], nlohmann::json({old[1], old[0]})) << pruned;
  EXPECT_EQ(FilesUnder(store_), (std::vector<std::string>{key, key + ".meta.json"}));

  // Only old backups: the newest of them survives, however old.
  for (const std::string& k : old) CopyBackup(key, k);
  fs::remove(store_ + "/" + key);
  fs::remove(store_ + "/" + key + ".meta.json");
  nlohmann::json all_old = RunJson({"prune"});
  EXPECT_EQ(all_old["deleted"], nlohmann::json({old[0]})) << all_old;
  EXPECT_EQ(all_old["kept"], nlohmann::json({old[1]})) << all_old;
  EXPECT_EQ(FilesUnder(store_), (std::vector<std::string>{old[1], old[1] + ".meta.json"}));
  // And it is still restorable.
  ProcessResult restore = box_.Run({"restore", "--to", box_.Path("from-old.db")});
  EXPECT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(DumpDb(box_.Path("from-old.db")), DumpDb(db_));
}

}  // namespace
}  // namespace dbbackup::testing
