#include "testing/s3_test_env.h"

#include <cstdlib>

namespace dbbackup::testing {
namespace {

// Reads `name` into *value; records it in *missing if unset or empty.
void Read(const char* name, std::string* value, std::vector<std::string>* missing) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    missing->push_back(name);
  } else {
    *value = v;
  }
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string DbbackupBinary() { return DBB_BINARY; }
std::string SourceDir() { return DBB_SOURCE_DIR; }
std::string SharedTestdataDir() { return DBB_SHARED_TESTDATA; }

const TestS3Env& TestS3Env::Get() {
  static const TestS3Env env = FromEnvironment();
  return env;
}

TestS3Env TestS3Env::FromEnvironment() {
  TestS3Env env;
  const char* required = std::getenv("DBB_REQUIRE_S3");
  env.required_ = required != nullptr && std::string(required) == "1";

  std::vector<std::string>* m = &env.missing_rgw_;
  Read("DBB_TEST_RGW_ENDPOINT", &env.rgw_owner.endpoint, m);
  Read("DBB_TEST_RGW_ACCESS_KEY", &env.rgw_owner.credentials.access_key, m);
  Read("DBB_TEST_RGW_SECRET_KEY", &env.rgw_owner.credentials.secret_key, m);
  Read("DBB_TEST_RGW_BACKUP_ACCESS_KEY", &env.rgw_backup.credentials.access_key, m);
  Read("DBB_TEST_RGW_BACKUP_SECRET_KEY", &env.rgw_backup.credentials.secret_key, m);
  Read("DBB_TEST_RGW_CONF", &env.rgw_conf, m);
  env.rgw_backup.endpoint = env.rgw_owner.endpoint;

  m = &env.missing_moto_;
  Read("DBB_TEST_MOTO_ENDPOINT", &env.moto_admin.endpoint, m);
  Read("DBB_TEST_MOTO_ACCESS_KEY", &env.moto_admin.credentials.access_key, m);
  Read("DBB_TEST_MOTO_SECRET_KEY", &env.moto_admin.credentials.secret_key, m);
  Read("DBB_TEST_MOTO_BUCKET", &env.moto_bucket, m);
  Read("DBB_TEST_MOTO_BACKUP_ACCESS_KEY", &env.moto_backup.credentials.access_key, m);
  Read("DBB_TEST_MOTO_BACKUP_SECRET_KEY", &env.moto_backup.credentials.secret_key, m);
  Read("DBB_TEST_MOTO_NODELETE_ACCESS_KEY", &env.moto_nodelete.credentials.access_key, m);
  Read("DBB_TEST_MOTO_NODELETE_SECRET_KEY", &env.moto_nodelete.credentials.secret_key, m);
  env.moto_backup.endpoint = env.moto_admin.endpoint;
  env.moto_nodelete.endpoint = env.moto_admin.endpoint;
  return env;
}

std::string TestS3Env::Missing(S3Server server) const {
  const std::vector<std::string>& missing = server == S3Server::kRgw ? missing_rgw_ : missing_moto_;
  if (missing.empty()) return "";
  return std::string(server == S3Server::kRgw ? "Ceph RGW" : "moto") +
         " test server not configured (unset: " + Join(missing) + ")";
}

}  // namespace dbbackup::testing
