#include "testing/aws_cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

namespace dbbackup::testing {
namespace {

ProcessOptions AwsOptions(const S3Target& target, ProcessOptions options) {
  options.unset_env.push_back("AWS_*");
  options.set_env["AWS_ACCESS_KEY_ID"] = target.credentials.access_key;
  options.set_env["AWS_SECRET_ACCESS_KEY"] = target.credentials.secret_key;
  options.set_env["AWS_DEFAULT_REGION"] = target.region;
  options.set_env["AWS_CONFIG_FILE"] = "/dev/null";
  options.set_env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
  options.set_env["AWS_EC2_METADATA_DISABLED"] = "true";
  options.set_env["AWS_MAX_ATTEMPTS"] = "1";
  options.set_env["AWS_PAGER"] = "";
  return options;
}

std::vector<std::string> AwsArgv(const S3Target& target, const std::vector<std::string>& args,
                                 bool debug) {
  std::vector<std::string> argv = {"aws", "--endpoint-url", target.endpoint};
  if (debug) argv.push_back("--debug");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string LastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

::testing::AssertionResult Failed(const std::string& what, const ProcessResult& r) {
  return ::testing::AssertionFailure() << what << ": " << r.Describe();
}

}  // namespace

ProcessResult RunAws(const S3Target& target, const std::vector<std::string>& args,
                     const ProcessOptions& options) {
  return RunProcess(AwsArgv(target, args, /*debug=*/false), AwsOptions(target, options));
}

std::string AwsErrorCode(const S3Target& target, const std::vector<std::string>& args,
                         const ProcessOptions& options) {
  ProcessResult r = RunProcess(AwsArgv(target, args, /*debug=*/true), AwsOptions(target, options));
  if (r.ok()) return "";
  std::smatch m;
  // aws-cli's own summary, when it manages to print one.
  static const std::regex kSummary(R"(An error occurred \(([A-Za-z0-9.]+)\))");
  if (std::regex_search(r.stderr_text, m, kSummary)) return m[1];
  // Otherwise the last <Code> of a response body in the --debug log.
  static const std::regex kCode(R"(<Code>([A-Za-z0-9.]+)</Code>)");
  std::string code;
  for (auto it = std::sregex_iterator(r.stderr_text.begin(), r.stderr_text.end(), kCode);
       it != std::sregex_iterator(); ++it) {
    code = (*it)[1];
  }
  if (!code.empty()) return code;
  return (r.timed_out ? std::string("timeout") : "exit " + std::to_string(r.exit_code)) + ": " +
         LastLine(r.stderr_text);
}

std::string UniqueBucketName(const std::string& tag) {
  static std::atomic<int> counter{0};
  static const uint32_t salt = std::random_device{}();
  std::string clean;
  for (char c : tag) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    clean += (std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
  }
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "-%d-%d-%06x", static_cast<int>(getpid()), ++counter,
                salt & 0xffffff);
  std::string name = "dbb-" + clean.substr(0, 63 - 4 - std::string(suffix).size()) + suffix;
  return name;
}

::testing::AssertionResult CreateBucket(const S3Target& target, const std::string& bucket) {
  ProcessResult r = RunAws(target, {"s3api", "create-bucket", "--bucket", bucket});
  if (!r.ok()) return Failed("create bucket " + bucket, r);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PutObject(const S3Target& target, const std::string& bucket,
                                     const std::string& key, const std::string& data) {
  ProcessOptions options;
  options.stdin_data = data;
  ProcessResult r = RunAws(
      target, {"s3", "cp", "--only-show-errors", "-", "s3://" + bucket + "/" + key}, options);
  if (!r.ok()) return Failed("put s3://" + bucket + "/" + key, r);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult GetObject(const S3Target& target, const std::string& bucket,
                                     const std::string& key, std::string* data) {
  ProcessResult r =
      RunAws(target, {"s3", "cp", "--only-show-errors", "s3://" + bucket + "/" + key, "-"});
  if (!r.ok()) return Failed("get s3://" + bucket + "/" + key, r);
  *data = r.stdout_text;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ListKeys(const S3Target& target, const std::string& bucket,
                                    const std::string& prefix, std::vector<std::string>* keys) {
  ProcessResult r = RunAws(target, {"s3api", "list-objects-v2", "--bucket", bucket, "--prefix",
                                    prefix, "--query", "Contents[].Key", "--output", "json"});
  if (!r.ok()) return Failed("list s3://" + bucket + "/" + prefix, r);
  keys->clear();
  nlohmann::json parsed = nlohmann::json::parse(r.stdout_text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Failed("list: unparsable output", r);
  if (parsed.is_array()) {
    for (const auto& k : parsed) keys->push_back(k.get<std::string>());
  }
  std::sort(keys->begin(), keys->end());
  return ::testing::AssertionSuccess();
}

std::vector<std::string> BucketKeys(const S3Target& target, const std::string& bucket) {
  std::vector<std::string> keys;
  EXPECT_TRUE(ListKeys(target, bucket, "", &keys));
  return keys;
}

std::string SeedPolicyJson(const std::string& bucket, SeedPolicy policy,
                           const std::string& principal_arn) {
  nlohmann::json actions = nlohmann::json::array({"s3:PutObject", "s3:GetObject", "s3:ListBucket"});
  if (policy == SeedPolicy::kFull) actions.push_back("s3:DeleteObject");
  nlohmann::json statement = nlohmann::json::object();
  statement["Effect"] = "Allow";
  if (!principal_arn.empty())
    statement["Principal"]["AWS"] = nlohmann::json::array({principal_arn});
  statement["Action"] = actions;
  statement["Resource"] =
      nlohmann::json::array({"arn:aws:s3:::" + bucket + "/*", "arn:aws:s3:::" + bucket});
  nlohmann::json document = nlohmann::json::object();
  document["Version"] = "2012-10-17";
  document["Statement"] = nlohmann::json::array({statement});
  return document.dump();
}

::testing::AssertionResult AttachSeedBucketPolicy(const S3Target& rgw_owner,
                                                  const std::string& bucket, SeedPolicy policy) {
  ProcessResult r =
      RunAws(rgw_owner, {"s3api", "put-bucket-policy", "--bucket", bucket, "--policy",
                         SeedPolicyJson(bucket, policy, "arn:aws:iam:::user/backup")});
  if (!r.ok()) return Failed("put bucket policy on " + bucket, r);
  return ::testing::AssertionSuccess();
}

}  // namespace dbbackup::testing
