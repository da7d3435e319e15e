// What the integration tests know about their environment: where the dbbackup
// binary is, and which loopback S3 servers scripts/test-env/up.sh started (read
// from the DBB_TEST_* variables it writes to its env file).
//
//   TEST(MyS3Test, Works) {
//     const TestS3Env& env = TestS3Env::Get();
//     DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);  // FAILs instead if DBB_REQUIRE_S3=1
//     ... env.rgw_owner.endpoint ...
//   }
//
// Thread-safety: Get() is safe from any thread; the object is immutable.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dbbackup::testing {

// The dbbackup binary built with these tests (CMake's DBB_BINARY).
std::string DbbackupBinary();
// The source tree (DBB_SOURCE_DIR) and the shared test data (DBB_SHARED_TESTDATA).
std::string SourceDir();
std::string SharedTestdataDir();

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
};

// One way of talking to one server: endpoint plus the keys of one user.
struct S3Target {
  std::string endpoint;  // http://127.0.0.1:PORT (path-style, plain http)
  S3Credentials credentials;
  std::string region = "us-east-1";
};

enum class S3Server { kRgw, kMoto };

class TestS3Env {
 public:
  // Reads the environment once (on first use).
  static const TestS3Env& Get();
  // Reads the environment now (for tests of this class).
  static TestS3Env FromEnvironment();

  // DBB_REQUIRE_S3=1: an unusable server must fail the tests, never skip them.
  bool Required() const { return required_; }
  // "" if every variable of `server` is set; otherwise a message naming the
  // missing variables.
  std::string Missing(S3Server server) const;

  // Ceph RGW. Owner: an ordinary user who may create buckets.
  S3Target rgw_owner;
  // Unprivileged "backup" user (may not create buckets); give it a bucket with
  // AttachSeedBucketPolicy() (aws_cli.h).
  S3Target rgw_backup;
  // ceph.conf of the cluster, for `radosgw-admin -c`.
  std::string rgw_conf;

  // moto_server with IAM enforced. Admin: may do anything, incl. CreateBucket.
  S3Target moto_admin;
  // The bucket the policies below name (created by start-moto.sh).
  std::string moto_bucket;
  // Exactly the seed system's IAM policy on moto_bucket. Note two moto 5.2.1
  // deviations from AWS: it rejects signed requests with '/' in the query
  // (ListObjectsV2 prefix=a/b/: SignatureDoesNotMatch), and it denies HeadBucket
  // (it checks a made-up s3:HeadBucket action; AWS checks s3:ListBucket).
  S3Target moto_backup;
  // The seed policy minus s3:DeleteObject.
  S3Target moto_nodelete;

 private:
  bool required_ = false;
  std::vector<std::string> missing_rgw_;
  std::vector<std::string> missing_moto_;
};

}  // namespace dbbackup::testing

// In a TEST body: skips the test if `server`'s variables are absent, or FAILs
// it if DBB_REQUIRE_S3=1 (an explicitly requested backend never skips).
#define DBB_SKIP_UNLESS_S3(env, server)                                           \
  do {                                                                            \
    const std::string dbb_missing_ = (env).Missing(server);                       \
    if (!dbb_missing_.empty()) {                                                  \
      if ((env).Required()) {                                                     \
        FAIL() << dbb_missing_ << " but DBB_REQUIRE_S3=1";                        \
      }                                                                           \
      GTEST_SKIP() << dbb_missing_ << " (start servers: scripts/test-env/up.sh)"; \
    }                                                                             \
  } while (0)
