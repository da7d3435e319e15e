#include "cli/config.h"

#include <gtest/gtest.h>

namespace dbbackup::cli {
namespace {

TEST(DotEnvTest, ParsesTheUsualShapes) {
  auto env = ParseDotEnv(
      "# comment\n"
      "AWS_ACCESS_KEY_ID=AKIA123\n"
      "export AWS_REGION=eu-west-1\n"
      "S3_BACKUP_BUCKET = my-bucket  # trailing comment\n"
      "QUOTED=\"a b # not a comment\"\n"
      "SINGLE='x=y'\n"
      "ESCAPED=\"line1\\nline2\"\n"
      "EMPTY=\n"
      "\r\n");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->at("AWS_ACCESS_KEY_ID"), "AKIA123");
  EXPECT_EQ(env->at("AWS_REGION"), "eu-west-1");
  EXPECT_EQ(env->at("S3_BACKUP_BUCKET"), "my-bucket");
  EXPECT_EQ(env->at("QUOTED"), "a b # not a comment");
  EXPECT_EQ(env->at("SINGLE"), "x=y");
  EXPECT_EQ(env->at("ESCAPED"), "line1\nline2");
  EXPECT_EQ(env->at("EMPTY"), "");
}

TEST(DotEnvTest, ErrorsNameTheLine) {
  auto env = ParseDotEnv("A=1\nthis is not an assignment\n");
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseDotEnv("A=\"unterminated\n").ok());
  EXPECT_FALSE(ParseDotEnv("1BAD=x\n").ok());
}

TEST(ConfigTest, DefaultsAreTheSeeds) {
  auto c = LoadConfig({}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->database_path, "database.db");
  EXPECT_EQ(c->retention_days, 30);
  EXPECT_EQ(c->min_keep, 1);
  EXPECT_EQ(c->prefix, "backups");
  EXPECT_EQ(c->sse, "AES256");
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->local_dir, "./backups-local");
  EXPECT_TRUE(c->LocalMode());
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, EnvironmentWinsOverDotEnv) {
  auto c = LoadConfig({{"S3_BACKUP_BUCKET", "from-env"}, {"AWS_ACCESS_KEY_ID", "AK"}},
                      {{"S3_BACKUP_BUCKET", "from-file"},
                       {"AWS_SECRET_ACCESS_KEY", "SK"},
                       {"BACKUP_RETENTION_DAYS", "7"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bucket, "from-env");
  EXPECT_EQ(c->secret_access_key, "SK");
  EXPECT_EQ(c->retention_days, 7);
  EXPECT_EQ(c->credential_source, "environment");
  EXPECT_FALSE(c->LocalMode());
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, EndpointAliases) {
  EXPECT_EQ(LoadConfig({{"AWS_ENDPOINT_URL", "http://b"}}, {})->endpoint, "http://b");
  EXPECT_EQ(LoadConfig({{"AWS_ENDPOINT_URL", "http://b"}, {"AWS_ENDPOINT_URL_S3", "http://a"}}, {})
                ->endpoint,
            "http://a");
  EXPECT_EQ(LoadConfig({{"S3_ENDPOINT_URL", "http://c"}, {"AWS_ENDPOINT_URL_S3", "http://a"}}, {})
                ->endpoint,
            "http://c");
}

TEST(ConfigTest, BadValuesNameTheVariable) {
  auto c = LoadConfig({{"BACKUP_RETENTION_DAYS", "thirty"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("BACKUP_RETENTION_DAYS"), std::string::npos);
  EXPECT_FALSE(LoadConfig({{"BACKUP_RETENTION_DAYS", "-1"}}, {}).ok());
  EXPECT_FALSE(LoadConfig({{"BACKUP_MIN_KEEP", "0"}}, {}).ok());
  EXPECT_FALSE(LoadConfig({{"S3_FORCE_PATH_STYLE", "maybe"}}, {}).ok());
}

TEST(ConfigTest, S3RetryKnobs) {
  auto c = LoadConfig({{"BACKUP_S3_MAX_ATTEMPTS", "2"},
                       {"BACKUP_S3_CONNECT_TIMEOUT", "3"},
                       {"BACKUP_S3_STALL_TIMEOUT", "4"}},
                      {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->s3_max_attempts, 2);
  EXPECT_EQ(c->s3_connect_timeout_s, 3);
  EXPECT_EQ(c->s3_stall_timeout_s, 4);
  auto d = LoadConfig({}, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->s3_max_attempts, 0);  // the client's default
  for (const char* name :
       {"BACKUP_S3_MAX_ATTEMPTS", "BACKUP_S3_CONNECT_TIMEOUT", "BACKUP_S3_STALL_TIMEOUT"}) {
    auto bad = LoadConfig({{name, "0"}}, {});
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_NE(bad.status().message().find(name), std::string::npos);
    EXPECT_FALSE(LoadConfig({{name, "soon"}}, {}).ok()) << name;
  }
}

TEST(ConfigTest, HalfConfiguredS3IsAnError) {
  // A bucket alone is valid here: the credentials chain (store_factory.h)
  // looks for profiles, web identity, container and instance credentials.
  auto bucket_only = LoadConfig({{"S3_BACKUP_BUCKET", "b"}}, {});
  ASSERT_TRUE(bucket_only.ok());
  EXPECT_TRUE(ValidateConfig(*bucket_only).ok());
  EXPECT_FALSE(bucket_only->LocalMode());
  // Half a key pair is not.
  auto half = LoadConfig({{"S3_BACKUP_BUCKET", "b"}, {"AWS_ACCESS_KEY_ID", "AK"}}, {});
  Status s = ValidateConfig(*half);
  EXPECT_NE(s.message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << s.ToString();
  auto secret_only = LoadConfig({{"S3_BACKUP_BUCKET", "b"}, {"AWS_SECRET_ACCESS_KEY", "x"}}, {});
  EXPECT_NE(ValidateConfig(*secret_only).message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  auto keys_only = LoadConfig({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}, {});
  EXPECT_NE(ValidateConfig(*keys_only).message().find("S3_BACKUP_BUCKET"), std::string::npos);
}

TEST(ConfigTest, ChainSeesDotEnvThenEnvironmentAndLabelsTheKeySource) {
  auto c = LoadConfig({{"AWS_PROFILE", "env-profile"}, {"HOME", "/home/u"}},
                      {{"AWS_PROFILE", "file-profile"},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                       {"AWS_ACCESS_KEY_ID", "AK"},
                       {"AWS_SECRET_ACCESS_KEY", "SK"}},
                      "conf/.env");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->chain_env.at("AWS_PROFILE"), "env-profile");
  EXPECT_EQ(c->chain_env.at("AWS_ROLE_ARN"), "arn:aws:iam::1:role/r");
  EXPECT_EQ(c->chain_env.at("HOME"), "/home/u");
  EXPECT_EQ(c->credential_source, ".env file conf/.env");
}

TEST(ConfigTest, EncryptionAndTlsSettings) {
  auto c = LoadConfig({{"S3_BACKUP_BUCKET", "b"},
                       {"BACKUP_SSE", "SSE-C"},
                       {"BACKUP_SSE_CUSTOMER_KEY_FILE", "/k"},
                       {"AWS_CA_BUNDLE", "/aws-ca.pem"},
                       {"BACKUP_S3_UNSIGNED_PAYLOAD", "true"}},
                      {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sse_customer_key_file, "/k");
  EXPECT_EQ(c->ca_bundle, "/aws-ca.pem");
  EXPECT_TRUE(c->unsigned_payload);
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c).ToString();
  EXPECT_EQ(LoadConfig({{"BACKUP_S3_CA_BUNDLE", "/ours.pem"}, {"AWS_CA_BUNDLE", "/aws.pem"}}, {})
                ->ca_bundle,
            "/ours.pem");

  Config bad = *c;
  bad.endpoint = "http://127.0.0.1:9000";
  EXPECT_NE(ValidateConfig(bad).message().find("https"), std::string::npos);
  bad = *c;
  bad.sse_customer_key_file.clear();
  EXPECT_NE(ValidateConfig(bad).message().find("BACKUP_SSE_CUSTOMER_KEY_FILE"), std::string::npos);
  bad = *c;
  bad.sse = "AES256";
  EXPECT_NE(ValidateConfig(bad).message().find("not SSE-C"), std::string::npos);
  bad.sse_customer_key_file.clear();
  bad.sse_kms_key_id = "k";
  EXPECT_NE(ValidateConfig(bad).message().find("not aws:kms"), std::string::npos);
  bad.sse = "sse-c";
  EXPECT_NE(ValidateConfig(bad).message().find("SSE-C"), std::string::npos);
  EXPECT_FALSE(LoadConfig({{"BACKUP_S3_UNSIGNED_PAYLOAD", "perhaps"}}, {}).ok());
}

}  // namespace
}  // namespace dbbackup::cli
