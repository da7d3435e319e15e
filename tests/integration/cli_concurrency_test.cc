// The dbbackup binary alongside other processes on Ceph RGW: a backup taken
// while another process keeps writing is consistent; a restore replaces a
// database another connection holds open; a backup killed mid-upload leaves
// no visible backup; two backups in the same second both land.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"
#include "testing/throttling_proxy.h"

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ------------------------------------------------------------ sqlite helpers

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db OpenDb(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  Db db(raw);
  EXPECT_EQ(rc, SQLITE_OK) << path << ": " << (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  if (rc != SQLITE_OK) return nullptr;
  sqlite3_busy_timeout(raw, 10000);
  return db;
}

::testing::AssertionResult Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return ::testing::AssertionFailure() << sql << ": " << msg;
  }
  return ::testing::AssertionSuccess();
}

// The single integer `sql` returns, or -1.
int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    v = sqlite3_column_int64(stmt, 0);
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  return v;
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  Db db = OpenDb(path);
  return db ? QueryInt(db.get(), sql) : -1;
}

int PortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// ------------------------------------------------------------------ fixture

class CliConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("cli-conc");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    box_.UseS3(env_.rgw_owner, bucket_);
    tmp_ = box_.Path("tmp");
    fs::create_directory(tmp_);
    box_.Set("BACKUP_TMP_DIR", tmp_);
  }

  nlohmann::json RunJson(const std::vector<std::string>& args) {
    std::vector<std::string> argv = args;
    argv.push_back("--json");
    ProcessResult r = box_.Run(argv);
    nlohmann::json j;
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    return j;
  }

  std::vector<std::string> Keys(const std::string& prefix = "") {
    std::vector<std::string> keys;
    EXPECT_TRUE(ListKeys(env_.rgw_owner, bucket_, prefix, &keys));
    return keys;
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  std::string tmp_;
  CliSandbox box_;
};

// (a) Another process commits transactions continuously (WAL mode), each
// inserting the same id into `a` and `b`. The backup must succeed without
// stopping the writer, and what it captured must be one consistent moment:
// integrity_check ok and every id in both tables.
TEST_F(CliConcurrencyTest, BackupWhileAnotherProcessWritesIsConsistent) {
  const std::string db = box_.Path("busy.db");
  ProcessResult init =
      RunProcess({"sqlite3", db,
                  "PRAGMA journal_mode=WAL;"
                  "CREATE TABLE a(id INTEGER PRIMARY KEY, payload BLOB);"
                  "CREATE TABLE b(id INTEGER PRIMARY KEY, payload BLOB);"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 2000) "
                  "INSERT INTO a SELECT i, randomblob(1500) FROM c;"
                  "INSERT INTO b SELECT id, randomblob(1500) FROM a;"});
  ASSERT_TRUE(init.ok()) << init.Describe();
  box_.Set("DATABASE_PATH", db);

  // The writer: one sqlite3 process per transaction, until told to stop.
  const std::string stop = box_.Path("stop-writer");
  ProcessOptions writer_opts;
  writer_opts.cwd = box_.WorkDir();
  BackgroundProcess writer(
      {"/bin/sh", "-c",
       "while [ ! -e \"$1\" ]; do\n"
       "  sqlite3 \"$0\" '.timeout 20000' 'BEGIN IMMEDIATE;"
       " INSERT INTO a(payload) VALUES (randomblob(3000));"
       " INSERT INTO b(id, payload) VALUES (last_insert_rowid(), randomblob(3000));"
       " COMMIT;' || exit 1\n"
       "done",
       db, stop},
      writer_opts, box_.HomeDir() + "/writer");
  ASSERT_TRUE(writer.started());

  auto rows_b = [&] { return QueryInt(db, "SELECT count(*) FROM b"); };
  ASSERT_TRUE(WaitFor([&] { return rows_b() >= 2030 || !writer.Running(); }, seconds(30)));
  const int64_t before = rows_b();
  ProcessResult r = box_.Run({"backup", "--no-prune", "--json"});
  const int64_t after = rows_b();
  // Keep writing a little longer, then stop.
  WaitFor([&] { return rows_b() >= after + 20 || !writer.Running(); }, seconds(10));
  WriteFileOrFail(stop, "");
  EXPECT_EQ(writer.Wait(seconds(30)), 0) << "the writer failed: " << writer.Stderr();
  EXPECT_GT(after, before) << "the writer made no progress while the backup ran";

  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  nlohmann::json backup;
  ASSERT_TRUE(ParseJsonStdout(r, &backup));
  const std::string key = backup.value("key", "");

  const std::string restored = box_.Path("restored.db");
  ProcessResult restore = box_.Run({"restore", key, "--to", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(IntegrityCheck(restored), "ok");
  const int64_t a = QueryInt(restored, "SELECT count(*) FROM a");
  const int64_t b = QueryInt(restored, "SELECT count(*) FROM b");
  EXPECT_EQ(a, b);
  EXPECT_GE(a, before);
  EXPECT_LE(a, after);
  EXPECT_EQ(QueryInt(restored, "SELECT count(*) FROM a LEFT JOIN b USING (id) WHERE b.id IS NULL"),
            0);
  EXPECT_EQ(QueryInt(restored, "SELECT count(*) FROM b LEFT JOIN a USING (id) WHERE a.id IS NULL"),
            0);
  EXPECT_EQ(backup["records"], a + b) << "the metadata describes another moment than the data";
  EXPECT_EQ(IntegrityCheck(db), "ok") << "the live database was damaged";
}

// (b) An application has the database open (WAL mode, as apps usually run):
// restore replaces it underneath, the application's connection sees the
// restored rows on its next transaction, and the previous database is kept
// at the safety copy path the restore prints.
TEST_F(CliConcurrencyTest, RestoreIntoADatabaseAnotherConnectionHoldsOpen) {
  const std::string source = box_.Path("source.db");
  ASSERT_TRUE(CreateTestDb(source, {.tables = 2, .rows_per_table = 300, .journal_mode = "wal"}));
  const std::string source_dump = DumpDb(source);
  box_.Set("DATABASE_PATH", source);
  nlohmann::json backup = RunJson({"backup", "--no-prune"});
  const std::string key = backup.value("key", "");
  ASSERT_FALSE(key.empty());

  const std::string live = box_.Path("live.db");
  ASSERT_TRUE(
      CreateTestDb(live, {.tables = 2, .rows_per_table = 120, .seed = 5, .journal_mode = "wal"}));
  const std::string live_dump = DumpDb(live);
  ASSERT_NE(live_dump, source_dump);
  box_.Set("DATABASE_PATH", live);

  Db app = OpenDb(live);
  ASSERT_TRUE(app);
  EXPECT_EQ(QueryInt(app.get(), "SELECT count(*) FROM t0"), 120);
  ASSERT_TRUE(Exec(app.get(), "INSERT INTO t1(name) VALUES ('written by the app')"));
  const std::string live_now = DumpDb(live);

  nlohmann::json restore = RunJson({"restore", key});
  EXPECT_EQ(restore["key"], key);
  ASSERT_TRUE(restore["safety_copy"].is_string()) << restore;
  const std::string safety = restore["safety_copy"].get<std::string>();
  ASSERT_TRUE(fs::exists(safety)) << safety;
  EXPECT_EQ(DumpDb(safety), live_now) << "the safety copy is not the replaced database";

  // The same connection, still open, sees the restored database.
  EXPECT_EQ(QueryInt(app.get(), "SELECT count(*) FROM t0"), 300);
  EXPECT_EQ(QueryInt(app.get(), "SELECT count(*) FROM t1 WHERE name = 'written by the app'"), 0);
  EXPECT_EQ(DumpDb(live), source_dump);
  EXPECT_EQ(IntegrityCheck(live), "ok");
  // And can keep writing to it.
  ASSERT_TRUE(Exec(app.get(), "INSERT INTO t1(name) VALUES ('after the restore')"));
  EXPECT_EQ(QueryInt(live, "SELECT count(*) FROM t1"), 301);
}

// The same with a read transaction open during the restore: WAL readers do
// not block writers, so the restore goes ahead; the reader keeps its snapshot
// until it ends the transaction and then sees the restored rows.
TEST_F(CliConcurrencyTest, RestoreWhileAReadTransactionIsOpen) {
  const std::string source = box_.Path("source.db");
  ASSERT_TRUE(CreateTestDb(source, {.tables = 1, .rows_per_table = 200, .journal_mode = "wal"}));
  box_.Set("DATABASE_PATH", source);
  nlohmann::json backup = RunJson({"backup", "--no-prune"});
  const std::string key = backup.value("key", "");
  ASSERT_FALSE(key.empty());

  const std::string live = box_.Path("live.db");
  ASSERT_TRUE(
      CreateTestDb(live, {.tables = 1, .rows_per_table = 50, .seed = 5, .journal_mode = "wal"}));
  Db app = OpenDb(live);
  ASSERT_TRUE(app);
  ASSERT_TRUE(Exec(app.get(), "BEGIN"));
  EXPECT_EQ(QueryInt(app.get(), "SELECT count(*) FROM t0"), 50);

  ProcessResult r = box_.Run({"restore", key, "--to", live}, seconds(90));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(Exec(app.get(), "COMMIT"));
  EXPECT_EQ(QueryInt(app.get(), "SELECT count(*) FROM t0"), 200);
  EXPECT_EQ(DumpDb(live), DumpDb(source));
}

// (c) SIGKILL in the middle of a multipart upload: no backup becomes visible
// (neither to `dbbackup list` nor to the aws CLI), and the next backup works.
TEST_F(CliConcurrencyTest, BackupKilledMidUploadLeavesNoVisibleBackup) {
  // 40 MiB of incompressible data, stored uncompressed: 5 parts of 8 MiB.
  const std::string db = box_.Path("big.db");
  ProcessResult init =
      RunProcess({"sqlite3", db,
                  "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB);"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 40) "
                  "INSERT INTO blobs(data) SELECT randomblob(1048576) FROM c;"});
  ASSERT_TRUE(init.ok()) << init.Describe();
  box_.Set("DATABASE_PATH", db);

  // Let 12 MiB of requests through (the first part and some of the next),
  // then hold the rest: the upload is caught in the middle.
  // Unthrottled (rate 0), but nothing more from the client after 12 MiB.
  auto proxy = std::make_unique<ThrottlingProxy>(PortOf(env_.rgw_owner.endpoint), 0, 12u << 20);
  ASSERT_TRUE(proxy->ok());
  box_.Set("S3_ENDPOINT_URL", proxy->Endpoint());
  BackgroundProcess backup({DbbackupBinary(), "backup", "--compression", "none", "--no-prune"},
                           box_.Options(), box_.HomeDir() + "/killed");
  ASSERT_TRUE(backup.started());
  ASSERT_TRUE(
      WaitFor([&] { return proxy->Forwarded() >= (12u << 20) || !backup.Running(); }, seconds(60)))
      << "the upload never got going: " << backup.Stderr();
  ASSERT_TRUE(backup.Running()) << "exited early: " << backup.Stderr();

  // RGW holds an unfinished multipart upload for the backup key.
  ProcessResult uploads = RunAws(
      env_.rgw_owner, {"s3api", "list-multipart-uploads", "--bucket", bucket_, "--output", "json"});
  ASSERT_TRUE(uploads.ok()) << uploads.Describe();
  nlohmann::json u = nlohmann::json::parse(uploads.stdout_text, nullptr, false);
  ASSERT_TRUE(u.is_object() && u.contains("Uploads") && !u["Uploads"].empty())
      << "no multipart upload in progress: " << uploads.stdout_text;
  EXPECT_TRUE(u["Uploads"][0].value("Key", "").starts_with("backups/full/")) << u;

  backup.Kill(SIGKILL);
  EXPECT_EQ(backup.Wait(seconds(10)), 128 + SIGKILL);
  proxy.reset();
  box_.Set("S3_ENDPOINT_URL", env_.rgw_owner.endpoint);

  nlohmann::json list = RunJson({"list"});
  EXPECT_EQ(list, nlohmann::json::array()) << "a killed backup is visible";
  EXPECT_EQ(Keys("backups/"), std::vector<std::string>{}) << "a killed backup left an object";
  ProcessResult restore = box_.Run({"restore", "--to", box_.Path("r.db")});
  EXPECT_EQ(restore.exit_code, 1) << restore.Describe();
  EXPECT_TRUE(OneErrorLine(restore, {"no backups found"}));

  // The next backup succeeds, and is the only one.
  nlohmann::json next = RunJson({"backup", "--compression", "none", "--no-prune"});
  const std::string key = next.value("key", "");
  EXPECT_EQ(next["verified"], true) << next;
  EXPECT_EQ(Keys("backups/"), std::vector<std::string>{key});
  ProcessResult verify = box_.Run({"verify", key});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

// (d) Two backups started at the same moment (same second) both succeed,
// under distinct keys, and both are intact.
TEST_F(CliConcurrencyTest, TwoBackupsInTheSameSecondGetDistinctKeys) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 2, .rows_per_table = 200}));
  box_.Set("DATABASE_PATH", db);

  // Start both just after a second boundary.
  auto now = std::chrono::system_clock::now();
  std::this_thread::sleep_until(std::chrono::ceil<seconds>(now) + milliseconds(20));
  ProcessResult results[2];
  std::thread other([&] { results[1] = box_.Run({"backup", "--no-prune", "--json"}); });
  results[0] = box_.Run({"backup", "--no-prune", "--json"});
  other.join();
  std::vector<std::string> keys;
  for (const ProcessResult& r : results) {
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    nlohmann::json j;
    ASSERT_TRUE(ParseJsonStdout(r, &j));
    keys.push_back(j.value("key", ""));
  }
  EXPECT_NE(keys[0], keys[1]);

  // And back to back, one after the other.
  nlohmann::json third = RunJson({"backup", "--no-prune"});
  keys.push_back(third.value("key", ""));
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end()) << ::testing::PrintToString(keys);
  EXPECT_EQ(Keys("backups/"), keys);

  nlohmann::json list = RunJson({"list"});
  ASSERT_EQ(list.size(), 3u) << list;
  for (const std::string& key : keys) {
    ProcessResult v = box_.Run({"verify", key, "--deep"});
    EXPECT_EQ(v.exit_code, 0) << key << ": " << v.Describe();
  }
}

}  // namespace
}  // namespace dbbackup::testing
