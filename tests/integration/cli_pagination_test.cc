// More than 1,000 backups on Ceph RGW: ListObjectsV2 pages (1,000 keys
// each) are followed by `list`, `prune --dry-run` and `prune`, so every
// backup is seen and retention keeps exactly what it should.
//
// The backups are copies of one real backup, written in parallel through
// the S3 store under old and recent keys with matching metadata timestamps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "env/clock.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/s3_store_options.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

constexpr int kOld = 1000;   // far past any retention
constexpr int kRecent = 10;  // within the default 30 days

// "YYYYMMDD_HHMMSS" and "YYYY-MM-DDTHH:MM:SSZ" of `t`.
std::string Stamp(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

std::set<std::string> KeysOf(const nlohmann::json& array) {
  std::set<std::string> keys;
  for (const auto& e : array)
    keys.insert(e.is_string() ? e.get<std::string>() : e.value("key", ""));
  return keys;
}

TEST(CliPaginationTest, MoreThanAThousandBackupsAreListedAndPrunedExactly) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);
  const std::string bucket = UniqueBucketName("pages");
  ASSERT_TRUE(CreateBucket(env.rgw_owner, bucket));
  CliSandbox box;
  box.UseS3(env.rgw_owner, bucket);
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 20}));
  box.Set("DATABASE_PATH", db);

  auto run_json = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = args;
    argv.push_back("--json");
    ProcessResult r = box.Run(argv, std::chrono::seconds(300));
    nlohmann::json j;
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    return j;
  };
  const std::string real = run_json({"backup", "--no-prune"}).value("key", "");
  ASSERT_FALSE(real.empty());

  // Copies of the real backup under other timestamps, 16 at a time.
  env::SystemClock clock;
  store::s3::S3Options o = S3OptionsFor(env.rgw_owner, bucket);
  auto store = store::NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto head = (*store)->Head(real);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto reader = (*store)->Get(real);
  ASSERT_TRUE(reader.ok());
  const std::string bytes = *ReadAll(**reader);

  const std::time_t now = std::time(nullptr);
  std::vector<std::time_t> times;
  for (int i = 0; i < kOld; ++i) times.push_back(1577836800 + i * 3600);  // from 2020-01-01
  for (int i = 1; i <= kRecent; ++i) times.push_back(now - i * 3600);
  std::vector<std::string> old_keys, recent_keys = {real};
  for (size_t i = 0; i < times.size(); ++i) {
    std::string key = "backups/full/" + Stamp(times[i], "%Y%m%d_%H%M%S") + "/app.db.gz";
    (i < kOld ? old_keys : recent_keys).push_back(key);
  }
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  auto work = [&] {
    for (size_t i = next++; i < times.size(); i = next++) {
      store::PutOptions opts;
      opts.metadata = head->metadata;
      opts.metadata["timestamp"] = Stamp(times[i], "%Y-%m-%dT%H:%M:%SZ");
      StringReader body(bytes);
      const std::string& key = i < kOld ? old_keys[i] : recent_keys[i - kOld + 1];
      if (!(*store)->Put(key, body, opts).ok()) ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  const std::set<std::string> old_set(old_keys.begin(), old_keys.end());
  const std::set<std::string> recent_set(recent_keys.begin(), recent_keys.end());
  std::set<std::string> all = old_set;
  all.insert(recent_set.begin(), recent_set.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kOld + kRecent + 1));

  nlohmann::json list = run_json({"list"});
  ASSERT_TRUE(list.is_array()) << list;
  EXPECT_EQ(list.size(), all.size());
  EXPECT_TRUE(KeysOf(list) == all) << "list misses backups beyond the first page";

  nlohmann::json dry = run_json({"prune", "--dry-run"});
  EXPECT_TRUE(KeysOf(dry["deleted"]) == old_set) << dry["deleted"].size() << " deleted";
  EXPECT_TRUE(KeysOf(dry["kept"]) == recent_set) << dry["kept"];

  nlohmann::json pruned = run_json({"prune"});
  EXPECT_EQ(pruned["deleted"].size(), old_set.size());
  std::vector<std::string> left;
  ASSERT_TRUE(ListKeys(env.rgw_owner, bucket, "", &left));
  EXPECT_TRUE(std::set<std::string>(left.begin(), left.end()) == recent_set)
      << left.size() << " objects left";
}

}  // namespace
}  // namespace dbbackup::testing
