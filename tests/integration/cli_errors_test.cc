// Bad input to the dbbackup binary: every mistake a user can make gives exit
// 1 (2 for usage errors) and ONE line on stderr that names the cause, and
// nothing is lost: no database is created, replaced or damaged, no file is
// left behind. S3 cases run on Ceph RGW.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
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

// The names in `dir`, sorted (to show nothing was added or removed).
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A loopback TCP port nothing listens on (bound, then closed again).
int ClosedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot find a free loopback port";
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// Tests that need no S3 server: local mode or failures before any store.
class CliErrorsTest : public ::testing::Test {
 protected:
  CliSandbox box_;
};

// Tests against RGW, each with a bucket of its own.
class CliErrorsS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("cli-errors");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
    box_.UseS3(env_.rgw_owner, bucket_);
  }

  std::vector<std::string> BucketKeys() {
    std::vector<std::string> keys;
    EXPECT_TRUE(ListKeys(env_.rgw_owner, bucket_, "", &keys));
    return keys;
  }

  // Backs up `db` and returns the key ("" on failure).
  std::string Backup(const std::string& db) {
    ProcessResult r = box_.Run({"backup", "--db", db, "--json"});
    nlohmann::json j;
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    if (!ParseJsonStdout(r, &j) || !j.is_object()) return "";
    return j.value("key", "");
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
  CliSandbox box_;
};

TEST_F(CliErrorsS3Test, MissingDatabaseFailsAndIsNotCreated) {
  const std::string missing = box_.Path("nope.db");
  ProcessResult r = box_.Run({"backup", "--db", missing});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"database not found: " + missing}));
  EXPECT_FALSE(fs::exists(missing)) << "the backup created the database it could not find";

  // The seed form with the default ./database.db.
  ProcessResult seed = box_.Run({});
  EXPECT_EQ(seed.exit_code, 1) << seed.Describe();
  EXPECT_TRUE(OneErrorLine(seed, {"database not found", "database.db"}));
  EXPECT_FALSE(fs::exists(box_.Path("database.db")));
  EXPECT_EQ(Listing(box_.WorkDir()), std::vector<std::string>{});
  EXPECT_EQ(BucketKeys(), std::vector<std::string>{});
}

TEST_F(CliErrorsS3Test, TextFileOrDirectoryIsNotADatabase) {
  const std::string text = box_.Path("notes.db");
  const std::string content = "these are my notes, not a database\n";
  WriteFileOrFail(text, content);
  ProcessResult r = box_.Run({"backup", "--db", text});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"not a SQLite database: " + text}));
  EXPECT_EQ(ReadFileOrEmpty(text), content);

  const std::string dir = box_.Path("data.db");
  fs::create_directory(dir);
  ProcessResult d = box_.Run({"backup", "--db", dir});
  EXPECT_EQ(d.exit_code, 1) << d.Describe();
  EXPECT_TRUE(OneErrorLine(d, {dir}));
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(BucketKeys(), std::vector<std::string>{});
}

TEST_F(CliErrorsS3Test, BucketThatDoesNotExist) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  const std::string absent = UniqueBucketName("cli-absent");
  box_.Set("S3_BACKUP_BUCKET", absent);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"backup", "--db", db}, std::vector<std::string>{"list"},
        std::vector<std::string>{"restore", "--to", box_.Path("r.db")}}) {
    ProcessResult r = box_.Run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {"bucket '" + absent + "' does not exist"})) << args[0];
  }
  EXPECT_FALSE(fs::exists(box_.Path("r.db")));
  EXPECT_EQ(AwsErrorCode(env_.rgw_owner, {"s3api", "head-bucket", "--bucket", absent}), "404")
      << "dbbackup must not create the bucket";
}

TEST_F(CliErrorsS3Test, WrongSecretKey) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  box_.Set("AWS_SECRET_ACCESS_KEY", env_.rgw_owner.credentials.secret_key + "x");
  ProcessResult r = box_.Run({"backup", "--db", db});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"AWS_SECRET_ACCESS_KEY"}));
  EXPECT_EQ(r.stderr_text.find(env_.rgw_owner.credentials.secret_key), std::string::npos)
      << "the secret must never be printed";
  ProcessResult list = box_.Run({"list"});
  EXPECT_EQ(list.exit_code, 1) << list.Describe();
  EXPECT_TRUE(OneErrorLine(list, {"AWS_SECRET_ACCESS_KEY"}));
  EXPECT_EQ(BucketKeys(), std::vector<std::string>{});
}

TEST_F(CliErrorsS3Test, UnreachableEndpoint) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ClosedLoopbackPort());
  box_.Set("S3_ENDPOINT_URL", endpoint);
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = box_.Run({"backup", "--db", db}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"cannot connect", endpoint}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
      << "a refused connection should fail within a few retries";
}

TEST_F(CliErrorsS3Test, RestoreOfAMissingKeyLeavesTheTargetUnchanged) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 100}));
  box_.Set("DATABASE_PATH", db);
  const std::string before = ReadFileOrEmpty(db);
  const std::vector<std::string> files = Listing(box_.WorkDir());

  // No backups at all: restore (of the latest) says so.
  ProcessResult none = box_.Run({"restore"});
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_TRUE(OneErrorLine(none, {"no backups found"}));

  ASSERT_FALSE(Backup(db).empty());
  const std::string missing = "backups/full/20240113_120000/app.db.gz";
  ProcessResult r = box_.Run({"restore", missing});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"backup not found: " + missing}));
  ProcessResult v = box_.Run({"verify", missing});
  EXPECT_EQ(v.exit_code, 1) << v.Describe();
  EXPECT_TRUE(OneErrorLine(v, {"backup not found: " + missing}));

  EXPECT_TRUE(ReadFileOrEmpty(db) == before) << "the target changed";
  EXPECT_EQ(Listing(box_.WorkDir()), files);
}

TEST_F(CliErrorsS3Test, RestoreKeyWithDotDotIsRefused) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 100}));
  box_.Set("DATABASE_PATH", db);
  const std::string key = Backup(db);
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(AddRows(db, "t0", 3));
  const std::string before = ReadFileOrEmpty(db);
  const std::vector<std::string> files = Listing(box_.WorkDir());
  const std::string file = key.substr(key.rfind('/') + 1);
  const std::string stamp = key.substr(std::string("backups/full/").size(), 15);
  for (const std::string& bad : {"backups/full/" + stamp + "/../" + stamp + "/" + file, "../" + key,
                                 "backups/full/../full/" + stamp + "/" + file}) {
    ProcessResult r = box_.Run({"restore", bad});
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {bad})) << bad;
    EXPECT_TRUE(ReadFileOrEmpty(db) == before) << bad << ": the target changed";
  }
  EXPECT_EQ(Listing(box_.WorkDir()), files);
}

TEST_F(CliErrorsTest, LocalModeRestoreKeyWithDotDotIsRefused) {
  // A gzipped database outside the store, where "../" would lead.
  const std::string outside_db = box_.Path("outside.db");
  ASSERT_TRUE(CreateTestDb(outside_db, {.tables = 1, .rows_per_table = 10, .seed = 7}));
  ASSERT_TRUE(RunProcess({"gzip", "-k", outside_db}).ok());
  fs::create_directories(box_.Path("store/backups/full/20240113_120000"));
  box_.Set("BACKUP_LOCAL_DIR", box_.Path("store"));
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 100}));
  box_.Set("DATABASE_PATH", db);
  const std::string before = ReadFileOrEmpty(db);
  const std::vector<std::string> files = Listing(box_.WorkDir());

  for (const std::string& bad :
       {std::string("backups/full/20240113_120000/../../../../outside.db.gz"),
        std::string("../outside.db.gz")}) {
    ProcessResult r = box_.Run({"restore", bad});
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {bad})) << bad;
    EXPECT_TRUE(ReadFileOrEmpty(db) == before) << bad << ": the target changed";
    ProcessResult v = box_.Run({"verify", bad, "--deep"});
    EXPECT_EQ(v.exit_code, 1) << bad << ": " << v.Describe();
  }
  EXPECT_EQ(Listing(box_.WorkDir()), files);
}

// The body of a real backup replaced, its metadata kept (or adjusted so that
// only the content checksum can tell): restore and verify --deep must fail,
// and the target stay as it was.
TEST_F(CliErrorsS3Test, CorruptObjectFailsRestoreAndLeavesTheTargetUnchanged) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 2, .rows_per_table = 300}));
  box_.Set("DATABASE_PATH", db);
  const std::string key = Backup(db);
  ASSERT_FALSE(key.empty());
  nlohmann::json head;
  ASSERT_TRUE(AwsHeadObject(env_.rgw_owner, bucket_, key, &head));
  const nlohmann::json meta = head["Metadata"];
  const size_t size = head["ContentLength"].get<size_t>();
  std::string good;
  ASSERT_TRUE(GetObject(env_.rgw_owner, bucket_, key, &good));
  ASSERT_EQ(good.size(), size);

  // Another database, gzipped properly: only the sha256 can catch it.
  const std::string other = box_.Path("other.db");
  ASSERT_TRUE(CreateTestDb(other, {.tables = 2, .rows_per_table = 300, .seed = 99}));
  ASSERT_TRUE(RunProcess({"gzip", other}).ok());
  const std::string other_gz = ReadFileOrEmpty(other + ".gz");
  fs::remove(other + ".gz");

  ASSERT_TRUE(AddRows(db, "t1", 10));  // so a wrong restore would show
  const std::string before = ReadFileOrEmpty(db);
  const std::vector<std::string> files = Listing(box_.WorkDir());

  struct Case {
    std::string name;
    std::string body;
  };
  std::string flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  const std::vector<Case> cases = {
      {"garbage of the same size", RandomBytes(size, 1)},
      {"one flipped byte", flipped},
      {"truncated", good.substr(0, size / 2)},
      {"another database", other_gz},
  };
  const std::string body_file = box_.HomeDir() + "/body";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WriteFileOrFail(body_file, c.body);
    nlohmann::json m = meta;
    if (c.name == "another database") {
      m["compressed-size"] = std::to_string(c.body.size());
      m["compressed-md5"] = Md5OfFile(body_file);
    }
    ProcessResult put =
        RunAws(env_.rgw_owner, {"s3api", "put-object", "--bucket", bucket_, "--key", key, "--body",
                                body_file, "--metadata", m.dump(), "--output", "json"});
    ASSERT_TRUE(put.ok()) << put.Describe();

    ProcessResult r = box_.Run({"restore", key});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {key}));
    EXPECT_TRUE(ReadFileOrEmpty(db) == before) << "the target changed";
    EXPECT_EQ(Listing(box_.WorkDir()), files) << "restore left files behind";

    ProcessResult v = box_.Run({"verify", key, "--deep"});
    EXPECT_EQ(v.exit_code, 1) << v.Describe();
    EXPECT_TRUE(OneErrorLine(v, {key}));
  }
}

TEST_F(CliErrorsTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"frobnicate"}, std::vector<std::string>{"backup", "--frobnicate"},
        std::vector<std::string>{"--frobnicate"},
        std::vector<std::string>{"backup", "--compression", "lzma"},
        std::vector<std::string>{"list", "extra"}}) {
    ProcessResult r = box_.Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {})) << args.back();
    EXPECT_EQ(r.stdout_text, "") << args.back();
  }
  EXPECT_EQ(Listing(box_.WorkDir()), std::vector<std::string>{}) << "nothing may be created";
}

TEST_F(CliErrorsTest, InvalidNumbersInTheEnvironmentExitTwoNamingTheVariable) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 10}));
  box_.Set("DATABASE_PATH", db);
  box_.Set("BACKUP_LOCAL_DIR", box_.Path("store"));
  for (const char* value : {"abc", "-1", "7days", "1.5"}) {
    box_.Set("BACKUP_RETENTION_DAYS", value);
    ProcessResult r = box_.Run({"backup"});
    EXPECT_EQ(r.exit_code, 2) << value << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {"BACKUP_RETENTION_DAYS", value})) << value;
  }
  box_.Unset("BACKUP_RETENTION_DAYS");
  box_.Set("BACKUP_MIN_KEEP", "0");
  ProcessResult r = box_.Run({"prune"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"BACKUP_MIN_KEEP"}));
  EXPECT_FALSE(fs::exists(box_.Path("store"))) << "nothing may be written";
}

TEST_F(CliErrorsTest, BucketWithoutCredentialsIsAClearError) {
  const std::string db = box_.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 10}));
  box_.Set("DATABASE_PATH", db);
  box_.Set("S3_BACKUP_BUCKET", "my-backups");
  // The credentials chain looked in every source and names each one.
  ProcessResult r = box_.Run({"backup"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(
      r, {"S3_BACKUP_BUCKET", "no AWS credentials found", "AWS_ACCESS_KEY_ID", "profile 'default'",
          "web identity", "container", "EC2 instance metadata: disabled"}));
  // Not silently local mode.
  EXPECT_FALSE(fs::exists(box_.Path("backups-local")));

  // With --json the same error is the one JSON document.
  ProcessResult j = box_.Run({"backup", "--json"});
  EXPECT_EQ(j.exit_code, 2) << j.Describe();
  nlohmann::json doc;
  ASSERT_TRUE(ParseJsonStdout(j, &doc));
  EXPECT_NE(doc.value("error", "").find("no AWS credentials found"), std::string::npos) << doc;

  // A named profile that does not exist is an error of its own, never a
  // fall-through to other sources.
  box_.Set("AWS_PROFILE", "prod");
  ProcessResult profile = box_.Run({"backup"});
  EXPECT_EQ(profile.exit_code, 1) << profile.Describe();
  EXPECT_TRUE(OneErrorLine(profile, {"AWS_PROFILE=prod", "profile 'prod'"}));
  box_.Unset("AWS_PROFILE");

  // A key id without its secret is no better.
  box_.Set("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE");
  ProcessResult half = box_.Run({"backup"});
  EXPECT_EQ(half.exit_code, 2) << half.Describe();
  EXPECT_TRUE(OneErrorLine(half, {"AWS_SECRET_ACCESS_KEY"}));
  EXPECT_FALSE(fs::exists(box_.Path("backups-local")));
}

TEST_F(CliErrorsTest, AsyncModeSaysNoDaemonIsRunning) {
  ASSERT_TRUE(CreateTestDb(box_.Path("database.db"), {.tables = 1, .rows_per_table = 10}));
  // A closed port, so a daemon a developer runs on the default 8780 cannot answer.
  box_.Set("DBBACKUP_DAEMON_URL", "http://127.0.0.1:1");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--async-mode"}, std::vector<std::string>{"backup", "--async"}}) {
    ProcessResult r = box_.Run(args);
    EXPECT_EQ(r.exit_code, 1) << args.back() << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, {"no dbbackup daemon is running"})) << args.back();
  }
  EXPECT_FALSE(fs::exists(box_.Path("backups-local"))) << "no backup may be taken instead";
}

}  // namespace
}  // namespace dbbackup::testing
