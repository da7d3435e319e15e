// S3ObjectStore under the seed system's least-privilege policy (s3:PutObject,
// GetObject, ListBucket, DeleteObject), attached on Ceph RGW as a bucket
// policy for the unprivileged "backup" user: everything the store needs
// works, and a failed multipart upload, whose abort is denied, leaves nothing
// visible and warns once about a lifecycle rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "env/clock.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/s3_test_env.h"

namespace dbbackup::store {
namespace {

using testing::S3Server;
using testing::S3Target;
using testing::TestS3Env;

s3::S3Options OptionsFor(const S3Target& target, const std::string& bucket) {
  s3::S3Options o;
  o.endpoint = target.endpoint;
  o.allow_http = true;  // loopback test servers only
  o.bucket = bucket;
  o.access_key_id = target.credentials.access_key;
  o.secret_access_key = target.credentials.secret_key;
  o.part_size = s3::kMinPartSize;
  return o;
}

// Yields `good` bytes, then fails: a snapshot stream dying mid-upload.
class FailingReader : public Reader {
 public:
  explicit FailingReader(size_t good) : left_(good) {}
  Result<size_t> Read(void* buf, size_t n) override {
    if (left_ == 0) return Status::IOError("snapshot stream broke");
    size_t k = std::min(n, left_);
    std::memset(buf, 'x', k);
    left_ -= k;
    return k;
  }

 private:
  size_t left_;
};

TEST(S3SeedPolicyTest, BackupUserCanDoItsJobAndFailedUploadsLeaveNothing) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);
  env::SystemClock clock;
  const std::string bucket = testing::UniqueBucketName("seed");
  auto owner = NewS3ObjectStore(OptionsFor(env.rgw_owner, bucket), clock);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  ASSERT_TRUE((*owner)->client().CreateBucket().ok());
  ASSERT_TRUE(testing::AttachSeedBucketPolicy(env.rgw_owner, bucket));

  auto store = NewS3ObjectStore(OptionsFor(env.rgw_backup, bucket), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ObjectStore& s = **store;
  Status ready = s.CheckReady();
  EXPECT_TRUE(ready.ok()) << ready.ToString();

  StringReader body("payload");
  ASSERT_TRUE(s.Put("backups/full/db1", body, {}).ok());
  auto listed = ListAll(s, "backups/full/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 1u);
  auto head = s.Head("backups/full/db1");
  EXPECT_TRUE(head.ok()) << head.status().ToString();

  std::vector<std::string> warnings;
  std::mutex mu;
  log::SetSink([&](log::Level level, std::string_view m) {
    std::lock_guard<std::mutex> lock(mu);
    if (level == log::Level::kWarning) warnings.emplace_back(m);
  });
  for (int i = 0; i < 2; ++i) {
    FailingReader broken(12 * s3::kMiB);
    auto put = s.Put("backups/full/broken", broken, {});
    EXPECT_EQ(put.status().code(), StatusCode::kIOError) << put.status().ToString();
  }
  log::SetSink({});
  EXPECT_EQ(s.Head("backups/full/broken").status().code(), StatusCode::kNotFound);
  int lifecycle_warnings = 0;
  for (const auto& w : warnings) {
    lifecycle_warnings += w.find("s3:AbortMultipartUpload") != std::string::npos &&
                          w.find("lifecycle rule") != std::string::npos;
  }
  EXPECT_EQ(lifecycle_warnings, 1) << "abort is denied by the seed policy; warn once";

  // Creating buckets is not the backup user's business.
  s3::S3Options other = OptionsFor(env.rgw_backup, testing::UniqueBucketName("seed-other"));
  auto denied = NewS3ObjectStore(other, clock);
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ((*denied)->client().CreateBucket().code(), StatusCode::kPermissionDenied);

  EXPECT_TRUE(s.Delete("backups/full/db1").ok());
  // Best effort: the denied abort leaves parts the owner cannot list here.
  (*owner)->client().DeleteBucketAndContents().IgnoreError();
}

}  // namespace
}  // namespace dbbackup::store
