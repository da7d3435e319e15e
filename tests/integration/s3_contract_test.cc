// The ObjectStore contract suite (testing/store_contract.h) over
// S3ObjectStore on Ceph RGW, twice: as the bucket's owner, and as the
// unprivileged "backup" user holding only the seed's least-privilege policy
// (s3:PutObject, GetObject, ListBucket, DeleteObject) as a bucket policy.
//
// Not run on moto: moto 5.2.1 with IAM enforced (as the harness starts it)
// rejects correctly signed requests with '/' in the query, and every contract
// test lists under "contract/<test>-<random>/". s3_store_test.cc covers moto.
#include <memory>
#include <mutex>
#include <string>

#include "env/clock.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/s3_test_env.h"
#include "testing/store_contract.h"

namespace dbbackup::store {
namespace {

using testing::S3Server;
using testing::S3Target;
using testing::TestS3Env;

env::Clock& Clock() {
  static env::SystemClock clock;
  return clock;
}

s3::S3Options OptionsFor(const S3Target& target, const std::string& bucket) {
  s3::S3Options o;
  o.endpoint = target.endpoint;
  o.allow_http = true;  // loopback test servers only
  o.region = target.region;
  o.bucket = bucket;
  o.access_key_id = target.credentials.access_key;
  o.secret_access_key = target.credentials.secret_key;
  o.part_size = s3::kMinPartSize;
  return o;
}

// One bucket per process and user kind, made on first use by the owner; the
// suite works under fresh prefixes and deletes what it writes.
const std::string& ContractBucket(bool seed_policy) {
  static std::mutex mu;
  static std::string buckets[2];
  std::lock_guard<std::mutex> lock(mu);
  std::string& bucket = buckets[seed_policy ? 1 : 0];
  if (!bucket.empty()) return bucket;
  const TestS3Env& env = TestS3Env::Get();
  std::string name = testing::UniqueBucketName(seed_policy ? "contract-seed" : "contract");
  auto owner = NewS3ObjectStore(OptionsFor(env.rgw_owner, name), Clock());
  if (!owner.ok() || !(*owner)->client().CreateBucket().ok()) return bucket;  // "" fails make
  if (seed_policy && !testing::AttachSeedBucketPolicy(env.rgw_owner, name)) return bucket;
  bucket = name;
  return bucket;
}

std::unique_ptr<ObjectStore> MakeStore(bool seed_policy, int max_keys) {
  const TestS3Env& env = TestS3Env::Get();
  const std::string& bucket = ContractBucket(seed_policy);
  if (bucket.empty()) return nullptr;
  s3::S3Options o = OptionsFor(seed_policy ? env.rgw_backup : env.rgw_owner, bucket);
  o.max_keys = max_keys;
  auto store = NewS3ObjectStore(std::move(o), Clock());
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

std::string SkipReason() {
  const TestS3Env& env = TestS3Env::Get();
  if (env.Required()) return "";  // an unusable server must fail, never skip
  std::string missing = env.Missing(S3Server::kRgw);
  return missing.empty() ? "" : missing + " (start servers: scripts/test-env/up.sh)";
}

testing::StoreFactory Factory(std::string name, bool seed_policy) {
  return testing::StoreFactory{
      .name = std::move(name),
      .make = [seed_policy] { return MakeStore(seed_policy, 1000); },
      .make_with_page_size =
          [seed_policy](size_t n) { return MakeStore(seed_policy, static_cast<int>(n)); },
      .default_page_size = 1000,
      .skip_reason = SkipReason,
  };
}

}  // namespace
}  // namespace dbbackup::store

DBB_INSTANTIATE_STORE_CONTRACT(S3, ::dbbackup::store::Factory("s3_rgw", false),
                               ::dbbackup::store::Factory("s3_rgw_seed_policy", true));
