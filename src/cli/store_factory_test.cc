#include "cli/store_factory.h"

#include <gtest/gtest.h>

#include "env/clock.h"
#include "env/file_util.h"
#include "testing/temp_dir.h"

namespace dbbackup::cli {
namespace {

TEST(MaskKeyIdTest, ShowsOnlyTheEnds) {
  EXPECT_EQ(MaskKeyId("AKIAIOSFODNN7EXAMPLE"), "AKIA...MPLE");
  EXPECT_EQ(MaskKeyId("ASIA12345678"), "ASIA...5678");
  EXPECT_EQ(MaskKeyId("short"), "****");
  EXPECT_EQ(MaskKeyId(""), "****");
}

class MakeStoreTest : public ::testing::Test {
 protected:
  // S3 settings with a HOME without ~/.aws and instance metadata off, so
  // nothing outside this process is asked.
  Config S3Config() {
    Config c;
    c.bucket = "dbb-factory-test";
    c.endpoint = "http://127.0.0.1:1";
    c.chain_env = {{"HOME", home_.path().string()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    return c;
  }
  testing::ScopedTempDir home_;
  env::SystemClock clock_;
};

TEST_F(MakeStoreTest, StaticKeysNameTheirSourceAndAMaskedKeyId) {
  Config c = S3Config();
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  c.credential_source = ".env file .env";
  CredentialsInfo info;
  auto store = MakeStore(c, clock_, &info);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(info.source, ".env file .env");
  EXPECT_EQ(info.masked_key_id, "AKIA...MPLE");
  EXPECT_EQ(DescribeCredentials(info), "credentials: .env file .env (access key id AKIA...MPLE)");
}

TEST_F(MakeStoreTest, NoSourceIsAConfigurationErrorNamingEverySourceTried) {
  CredentialsInfo info;
  auto store = MakeStore(S3Config(), clock_, &info);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = store.status().message();
  for (const char* s : {"S3_BACKUP_BUCKET", "AWS_ACCESS_KEY_ID", "profile 'default'",
                        "web identity", "container", "EC2 instance metadata: disabled"}) {
    EXPECT_NE(m.find(s), std::string::npos) << s << " in " << m;
  }
}

TEST_F(MakeStoreTest, SharedCredentialsFileProfile) {
  Config c = S3Config();
  c.chain_env["AWS_PROFILE"] = "backup";
  c.chain_env["AWS_SHARED_CREDENTIALS_FILE"] = home_.File("creds");
  ASSERT_TRUE(env::WriteFileAtomic(home_.File("creds"),
                                   "[backup]\naws_access_key_id = AKIAPROFILEKEY000001\n"
                                   "aws_secret_access_key = profile-secret\n")
                  .ok());
  CredentialsInfo info;
  auto store = MakeStore(c, clock_, &info);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_NE(info.source.find("profile 'backup'"), std::string::npos) << info.source;
  EXPECT_EQ(info.masked_key_id, "AKIA...0001");
  EXPECT_EQ(info.source.find("profile-secret"), std::string::npos);
}

TEST_F(MakeStoreTest, UnusableSseCKeyFileIsAConfigurationError) {
  Config c = S3Config();
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "secret";
  c.sse = "SSE-C";
  c.sse_customer_key_file = home_.File("missing.key");
  auto store = MakeStore(c, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("missing.key"), std::string::npos);
}

TEST_F(MakeStoreTest, LocalModeHasNoCredentials) {
  Config c;
  c.local_dir = home_.File("store");
  CredentialsInfo info;
  auto store = MakeStore(c, clock_, &info);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(info.source.empty());
  EXPECT_TRUE(info.masked_key_id.empty());
}

}  // namespace
}  // namespace dbbackup::cli
