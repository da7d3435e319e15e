// The aws CLI as the independent S3 client of the integration tests: whatever
// dbbackup writes, the aws CLI must be able to read, and the other way round.
// Every call is isolated from the user's AWS configuration (no profiles, no
// config files, no retries, region us-east-1) and signs with the given keys.
//
// Thread-safety: all functions may be called from several threads at once.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/process.h"
#include "testing/s3_test_env.h"

namespace dbbackup::testing {

// Runs `aws --endpoint-url target.endpoint ARGS...` as target's user. `options`
// may add stdin, a timeout or more environment; the AWS_* variables are set here.
ProcessResult RunAws(const S3Target& target, const std::vector<std::string>& args,
                     const ProcessOptions& options = {});

// Runs the same call with --debug and returns the server's error code, e.g.
// "AccessDenied", "NoSuchKey", "404" (HeadObject), or "" if the call succeeded;
// "exit N: <last stderr line>" if it failed without a recognisable code. Works
// on RGW's empty error messages, which crash aws-cli v1's error printer.
std::string AwsErrorCode(const S3Target& target, const std::vector<std::string>& args,
                         const ProcessOptions& options = {});

// A bucket name no other test (or test process) uses: "dbb-<tag>-<pid>-<n>-<rand>",
// lower-cased, at most 63 characters.
std::string UniqueBucketName(const std::string& tag);

// Creates `bucket` (us-east-1) as target's user.
::testing::AssertionResult CreateBucket(const S3Target& target, const std::string& bucket);

// Writes `data` to s3://bucket/key, and reads it back, with the aws CLI.
::testing::AssertionResult PutObject(const S3Target& target, const std::string& bucket,
                                     const std::string& key, const std::string& data);
::testing::AssertionResult GetObject(const S3Target& target, const std::string& bucket,
                                     const std::string& key, std::string* data);
// The keys under `prefix` (ListObjectsV2, all pages), sorted.
::testing::AssertionResult ListKeys(const S3Target& target, const std::string& bucket,
                                    const std::string& prefix, std::vector<std::string>* keys);
// Every key in `bucket`, sorted (and a test failure if it cannot be listed).
std::vector<std::string> BucketKeys(const S3Target& target, const std::string& bucket);

enum class SeedPolicy {
  kFull,           // s3:PutObject, GetObject, ListBucket, DeleteObject
  kWithoutDelete,  // the same minus s3:DeleteObject
};

// The seed system's IAM policy document for `bucket` (Resource: the bucket and
// bucket/*). With a non-empty `principal_arn` it becomes a bucket policy naming
// that principal.
std::string SeedPolicyJson(const std::string& bucket, SeedPolicy policy = SeedPolicy::kFull,
                           const std::string& principal_arn = "");

// RGW: as the bucket's owner, attaches the seed policy as a bucket policy
// granting RGW user "backup" (TestS3Env::rgw_backup) access to `bucket`.
::testing::AssertionResult AttachSeedBucketPolicy(const S3Target& rgw_owner,
                                                  const std::string& bucket,
                                                  SeedPolicy policy = SeedPolicy::kFull);

}  // namespace dbbackup::testing
