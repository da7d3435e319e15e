// The S3 client against faults it must survive, through the real binary and
// the real network stack: a fault-injecting proxy (tests/testing/fault_proxy.h)
// in front of Ceph RGW returns 500/503 SlowDown, resets connections mid-request
// and mid-response, and stalls. Backups and restores still succeed, nothing is
// duplicated or left half-uploaded, and requests that cannot succeed are not
// retried. Also: a wrong region (emulated by the proxy) and a skewed clock
// (RGW's own 15-minute check) are recovered from, and DNS failures explain
// themselves.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "env/clock.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/fault_proxy.h"
#include "testing/process.h"
#include "testing/s3_store_options.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

using Fault = FaultProxy::Fault;

// A database of `mib` MiB of random blobs: incompressible, so its backup
// is a multipart upload of several 8 MiB parts.
::testing::AssertionResult CreateRandomDb(const std::string& path, int mib) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return ::testing::AssertionFailure() << "cannot open " << path;
  }
  const std::string sql =
      "CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
      std::to_string(mib * 16) + ") INSERT INTO blobs(b) SELECT randomblob(65536) FROM c;";
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return ::testing::AssertionFailure() << message;
  return ::testing::AssertionSuccess();
}

// The number of multipart uploads still open in `bucket` (aws CLI, no proxy).
int OpenUploads(const S3Target& target, const std::string& bucket) {
  ProcessResult r = RunAws(target, {"s3api", "list-multipart-uploads", "--bucket", bucket});
  EXPECT_TRUE(r.ok()) << r.Describe();
  if (r.stdout_text.find_first_not_of(" \n") == std::string::npos) return 0;
  nlohmann::json j = nlohmann::json::parse(r.stdout_text, nullptr, false);
  if (!j.is_object() || !j.contains("Uploads")) return 0;
  return static_cast<int>(j["Uploads"].size());
}

class S3ResilienceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kRgw);
    bucket_ = UniqueBucketName("resil");
    ASSERT_TRUE(CreateBucket(env_.rgw_owner, bucket_));
  }

  // A sandbox whose dbbackup talks to RGW through `proxy`, retrying quickly.
  void UseProxy(CliSandbox& box, const FaultProxy& proxy, const S3Target& user) {
    box.UseS3(user, bucket_);
    box.Set("S3_ENDPOINT_URL", proxy.Endpoint());
    box.Set("BACKUP_S3_MAX_ATTEMPTS", "10");
    box.Set("BACKUP_S3_CONNECT_TIMEOUT", "2");
    box.Set("BACKUP_S3_STALL_TIMEOUT", "1");
  }

  std::vector<std::string> Keys() { return BucketKeys(env_.rgw_owner, bucket_); }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string bucket_;
};

TEST_F(S3ResilienceTest, BackupAndRestoreSurviveInjectedFaults) {
  CliSandbox box;
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateRandomDb(db, 20));
  const std::string dump = DumpDb(db);
  box.Set("DATABASE_PATH", db);

  FaultProxy proxy(env_.rgw_owner.endpoint, {.seed = 20261126, .fault_share = 0.3});
  UseProxy(box, proxy, env_.rgw_owner);

  ProcessResult backup = box.Run({"backup", "--no-prune", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.Describe();
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(backup, &j));
  const std::string key = j.value("key", "");
  ASSERT_FALSE(key.empty()) << j;
  EXPECT_GT(j["compressed_size"].get<uint64_t>(), 16u << 20) << "not a multipart upload";

  // Exactly one object, whole, and no multipart upload left behind.
  EXPECT_EQ(Keys(), std::vector<std::string>{key});
  EXPECT_EQ(OpenUploads(env_.rgw_owner, bucket_), 0);
  nlohmann::json head;
  ASSERT_TRUE(AwsHeadObject(env_.rgw_owner, bucket_, key, &head));
  EXPECT_EQ(head["ContentLength"].get<uint64_t>(), j["compressed_size"].get<uint64_t>());

  // The listing, also through the faults, shows that one backup.
  ProcessResult list = box.Run({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  nlohmann::json listed;
  ASSERT_TRUE(ParseJsonStdout(list, &listed));
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0].value("key", ""), key);

  const std::string restored = box.Path("restored.db");
  ProcessResult restore = box.Run({"restore", key, "--to", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(IntegrityCheck(restored), "ok");
  EXPECT_TRUE(DumpDb(restored) == dump) << "restored database differs";

  // The faults did happen, every kind of them, and some hit upload parts.
  int part_faults = 0;
  for (const FaultProxy::Decision& d : proxy.Decisions()) {
    if (d.request.starts_with("PUT ") && d.request.find("partNumber=") != std::string::npos &&
        d.fault != Fault::kNone) {
      ++part_faults;
    }
  }
  EXPECT_GT(part_faults, 0) << "no upload part was retried";
  for (Fault f :
       {Fault::k500, Fault::k503, Fault::kResetRequest, Fault::kResetResponse, Fault::kStall}) {
    EXPECT_GT(proxy.Count(f), 0) << "fault " << static_cast<int>(f) << " never injected in "
                                 << proxy.Seen() << " requests";
  }
  EXPECT_EQ(Keys(), std::vector<std::string>{key}) << "restore wrote to the bucket";
}

// The proxy itself: the same seed gives the same faults for the same
// requests, another seed others; the share is roughly kept; HEAD answers
// carry no body (the connection stays usable).
TEST_F(S3ResilienceTest, ProxyFaultsAreDeterministicPerSeed) {
  auto run = [&](uint64_t seed) {
    FaultProxy proxy(env_.rgw_owner.endpoint,
                     {.seed = seed,
                      .fault_share = 0.4,
                      .faults = {Fault::k500, Fault::k503, Fault::kResetResponse}});
    env::SystemClock clock;
    store::s3::S3Options o = S3OptionsFor(env_.rgw_owner, bucket_);
    o.endpoint = proxy.Endpoint();
    o.max_attempts = 1;  // one request per call, so calls and decisions line up
    auto store = store::NewS3ObjectStore(o, clock);
    EXPECT_TRUE(store.ok());
    int ok = 0;
    for (int i = 0; i < 40; ++i) {
      auto head = (*store)->Head("absent-" + std::to_string(i));
      if (head.status().code() == StatusCode::kNotFound) ++ok;
    }
    EXPECT_EQ(proxy.Seen(), 40);
    EXPECT_EQ(ok, proxy.Count(Fault::kNone)) << "a forwarded HEAD must reach RGW intact";
    return proxy.Decisions();
  };
  std::vector<FaultProxy::Decision> a = run(11), b = run(11), c = run(12);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  long faults = std::count_if(
      a.begin(), a.end(), [](const FaultProxy::Decision& d) { return d.fault != Fault::kNone; });
  EXPECT_GT(faults, 5);
  EXPECT_LT(faults, 30);
}

TEST_F(S3ResilienceTest, AccessDeniedIsNotRetried) {
  // The unprivileged user has no policy on this bucket: RGW says AccessDenied.
  CliSandbox box;
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  box.Set("DATABASE_PATH", db);
  FaultProxy proxy(env_.rgw_owner.endpoint, {});
  UseProxy(box, proxy, env_.rgw_backup);

  ProcessResult r = box.Run({"backup"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(OneErrorLine(r, {"access denied for s3:ListBucket on arn:aws:s3:::" + bucket_}));
  std::vector<std::string> log = proxy.Log();
  ASSERT_FALSE(log.empty());
  std::map<std::string, int> times;
  for (const std::string& line : log) ++times[line];
  for (const auto& [request, n] : times) EXPECT_EQ(n, 1) << request << " sent " << n << " times";
  EXPECT_TRUE(Keys().empty());
}

TEST_F(S3ResilienceTest, StalledRequestsTimeOutAndRetryInSeconds) {
  CliSandbox box;
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  box.Set("DATABASE_PATH", db);
  // The first three requests stall; each must give up after about a second
  // (BACKUP_S3_STALL_TIMEOUT=1), not the default minute.
  FaultProxy proxy(env_.rgw_owner.endpoint,
                   {.fault_share = 1, .faults = {Fault::kStall}, .max_faults = 3});
  UseProxy(box, proxy, env_.rgw_owner);
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = box.Run({"backup", "--no-prune", "--json"}, std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(proxy.Count(Fault::kStall), 3) << proxy.Seen() << " requests";
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::seconds(5) * (proxy.Count(Fault::kStall) + 2));
  EXPECT_EQ(Keys().size(), 1u);
}

// Emulates AWS's answer to a request signed for the wrong region: RGW itself
// takes any region, so the proxy plays AWS (a test of our side only).
TEST_F(S3ResilienceTest, WrongRegionIsRecoveredAndLoggedOnce) {
  CliSandbox box;
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  const std::string dump = DumpDb(db);
  box.Set("DATABASE_PATH", db);
  FaultProxy proxy(env_.rgw_owner.endpoint, {});
  std::atomic<int> redirected{0};
  proxy.SetInterceptor([&](const FaultProxy::Request& r) -> std::optional<std::string> {
    auto it = r.headers.find("authorization");
    if (it == r.headers.end() || it->second.find("/us-east-1/s3/") != std::string::npos) {
      return std::nullopt;
    }
    ++redirected;
    // AWS's answer: the region in <Region> and, for HEAD (no body), in
    // x-amz-bucket-region.
    return FaultProxy::ErrorResponse(400, "AuthorizationHeaderMalformed",
                                     {{"x-amz-bucket-region", "us-east-1"}},
                                     "<Region>us-east-1</Region>");
  });
  UseProxy(box, proxy, env_.rgw_owner);
  box.Set("AWS_REGION", "eu-central-1");

  ProcessResult backup = box.Run({"backup", "--no-prune", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.Describe();
  EXPECT_EQ(redirected.load(), 1) << "the region must be remembered after the first answer";
  size_t first = backup.stderr_text.find("region us-east-1");
  EXPECT_NE(first, std::string::npos) << backup.stderr_text;
  EXPECT_EQ(backup.stderr_text.find("region us-east-1", first + 1), std::string::npos)
      << "logged more than once: " << backup.stderr_text;
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(backup, &j));

  const std::string restored = box.Path("restored.db");
  ProcessResult restore = box.Run({"restore", j.value("key", ""), "--to", restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(DumpDb(restored), dump);
  EXPECT_EQ(redirected.load(), 2);  // once per run
}

// A 60 MiB object comes back bit-identical through parallel ranged GETs, on
// RGW directly and through the proxy with faults on a third of the requests
// (each failed range retried on its own), with at most get_concurrency part
// buffers alive.
TEST_F(S3ResilienceTest, LargeObjectRoundTripsThroughRangedGets) {
  std::string data(60 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < data.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&data[i], &x, 8);
  }
  FaultProxy proxy(env_.rgw_owner.endpoint, {.seed = 60, .fault_share = 0.3});
  proxy.SetFaultShare(0);  // the upload goes through untouched
  env::SystemClock clock;
  store::s3::S3Options o = S3OptionsFor(env_.rgw_owner, bucket_);
  o.endpoint = proxy.Endpoint();
  o.stall_timeout = std::chrono::seconds(1);
  o.max_attempts = 10;
  o.retry_base_delay = std::chrono::milliseconds(10);
  // The seed's faults land on this geometry's requests (8 ranges, both
  // kinds of fault counted below); the default part size is another.
  o.get_part_size = 8 << 20;
  auto store = store::NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  StringReader body(data);
  ASSERT_TRUE((*store)->Put("big/object", body, {}).ok());

  for (double share : {0.0, 0.3}) {
    proxy.SetFaultShare(share);
    const int seen_before = proxy.Seen();
    auto reader = (*store)->Get("big/object");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto got = ReadAll(**reader);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == data) << "share " << share << ": the download differs";
    // 60 MiB in 8 MiB parts: the plain GET and 7 more ranges, plus retries.
    EXPECT_GE(proxy.Seen() - seen_before, 8) << "share " << share;
  }
  EXPECT_GT(proxy.Count(Fault::kResetResponse) + proxy.Count(Fault::k503), 0);
  EXPECT_GE((*store)->ranged_get_buffers_peak(), 1u);
  EXPECT_LE((*store)->ranged_get_buffers_peak(), static_cast<size_t>(o.get_concurrency));
}

// RGW enforces S3's 15-minute window; a client an hour behind recovers from
// the server's Date header and keeps the offset.
TEST_F(S3ResilienceTest, ClockAnHourBehindIsCorrectedAgainstRgw) {
  env::FakeClock clock(std::chrono::system_clock::now() - std::chrono::hours(1));
  store::s3::S3Options o = S3OptionsFor(env_.rgw_owner, bucket_);
  o.max_attempts = 1;  // the correction is not a retry
  auto store = store::NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  StringReader body("hello");
  auto put = (*store)->Put("skew/k", body, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto offset = (*store)->client().ClockOffset();
  EXPECT_GT(offset, std::chrono::minutes(55));
  EXPECT_LT(offset, std::chrono::minutes(65));
  auto get = (*store)->Get("skew/k");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(*ReadAll(**get), "hello");
  EXPECT_EQ((*store)->client().ClockOffset(), offset);
}

TEST(S3ErrorsNoServer, UnresolvableHostSaysSoAtOnce) {
  CliSandbox box;
  box.Set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  box.Set("AWS_SECRET_ACCESS_KEY", "secret");
  box.Set("S3_BACKUP_BUCKET", "some-bucket");
  box.Set("S3_ENDPOINT_URL", "http://nonexistent.invalid:9000");
  ProcessResult r = box.Run({"list"}, std::chrono::seconds(60));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(OneErrorLine(
      r, {"cannot resolve the host name of http://some-bucket.nonexistent.invalid:9000",
          "(check S3_ENDPOINT_URL and DNS)"}));
}

TEST(S3ErrorsNoServer, ConnectionRefusedSaysWhatToCheck) {
  CliSandbox box;
  box.Set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  box.Set("AWS_SECRET_ACCESS_KEY", "secret");
  box.Set("S3_BACKUP_BUCKET", "some-bucket");
  box.Set("S3_ENDPOINT_URL", "http://127.0.0.1:1");  // nothing listens on port 1
  box.Set("BACKUP_S3_MAX_ATTEMPTS", "2");
  ProcessResult r = box.Run({"list"}, std::chrono::seconds(60));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(OneErrorLine(r, {"cannot connect to http://127.0.0.1:1",
                               "(check S3_ENDPOINT_URL and that the server is running)"}));
}

}  // namespace
}  // namespace dbbackup::testing
