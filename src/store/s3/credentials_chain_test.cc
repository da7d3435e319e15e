// The default chain over FakeTransport, FakeClock and temp files: order,
// source naming, profile roles via AssumeRole, refresh, and errors that list
// what was tried and never contain a secret.
#include "store/s3/credentials_chain.h"

#include <gtest/gtest.h>

#include "env/file_util.h"
#include "store/s3/fake_transport.h"
#include "testing/temp_dir.h"

namespace dbbackup::store::s3 {
namespace {

constexpr char kProfileSecret[] = "ProfileSecretNeverShown";
constexpr char kEnvSecret[] = "EnvSecretNeverShown";
constexpr char kTempSecret[] = "TemporarySecretNeverShown";
const auto kStart = std::chrono::system_clock::from_time_t(1700000000);

std::string StsXml(const std::string& action, const std::string& key_id,
                   const std::string& expiration) {
  return "<" + action + "Response><" + action + "Result><Credentials><AccessKeyId>" + key_id +
         "</AccessKeyId><SecretAccessKey>" + kTempSecret +
         "</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>" + expiration +
         "</Expiration></Credentials></" + action + "Result></" + action + "Response>";
}

std::string FormValue(const std::string& body, const std::string& name) {
  size_t p = body.find(name + "=");
  if (p == std::string::npos) return "";
  p += name.size() + 1;
  return body.substr(p, body.find('&', p) - p);
}

std::string KeyIdOf(const RecordedRequest& r) {
  std::string auth = r.Header("Authorization").value_or("");
  size_t b = auth.find("Credential=");
  if (b == std::string::npos) return "";
  b += 11;
  return auth.substr(b, auth.find('/', b) - b);
}

class ChainTest : public ::testing::Test {
 protected:
  ChainTest() {
    sts_ = std::make_shared<FakeTransport>([this](const RecordedRequest& r) { return Sts(r); });
    metadata_ = std::make_shared<FakeTransport>([](const RecordedRequest&) {
      FakeResponse res;
      res.error = Status::Unavailable("cannot connect to http://169.254.169.254: timed out");
      return res;
    });
  }

  // STS: AssumeRole hands out ASIA<n>, AssumeRoleWithWebIdentity WEB<n>,
  // valid for an hour from the fake clock's now.
  FakeResponse Sts(const RecordedRequest& r) {
    const std::string action = FormValue(r.body, "Action");
    const int n = ++sts_calls_;
    char exp[32];
    std::time_t t = std::chrono::system_clock::to_time_t(clock_.Now() + std::chrono::hours(1));
    std::strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    if (action == "AssumeRole") {
      if (FormValue(r.body, "RoleArn").find("denied") != std::string::npos) {
        return FakeResponse{403,
                            {},
                            "<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
                            "</ErrorResponse>",
                            {}};
      }
      return FakeResponse{200, {}, StsXml(action, "ASIA" + std::to_string(n), exp), {}};
    }
    return FakeResponse{200, {}, StsXml(action, "WEB" + std::to_string(n), exp), {}};
  }

  ChainOptions Options() {
    ChainOptions o;
    o.env = {{"HOME", dir_.path().string()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    o.clock = &clock_;
    o.sts_transport = sts_;
    o.metadata_transport = metadata_;
    return o;
  }

  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(env::MakeDirs(env::DirName(dir_.File(name))).ok());
    ASSERT_TRUE(env::WriteFileAtomic(dir_.File(name), text).ok());
  }

  void ExpectNoSecrets(const std::string& s) {
    for (const char* secret : {kProfileSecret, kEnvSecret, kTempSecret}) {
      EXPECT_EQ(s.find(secret), std::string::npos) << s;
    }
  }

  testing::ScopedTempDir dir_;
  env::FakeClock clock_{kStart};
  std::atomic<int> sts_calls_{0};
  std::shared_ptr<FakeTransport> sts_;
  std::shared_ptr<FakeTransport> metadata_;
};

TEST_F(ChainTest, StaticCredentialsComeFirst) {
  Write(".aws/credentials",
        std::string("[default]\naws_access_key_id=PROFILE\naws_secret_access_key=") +
            kProfileSecret + "\n");
  ChainOptions o = Options();
  o.static_credentials = Credentials{"ENVKEY", kEnvSecret, ""};
  o.static_source = "environment";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Source(), "environment");
  EXPECT_EQ((*p)->Get()->access_key_id, "ENVKEY");
}

TEST_F(ChainTest, StaticKeyWithoutSecretIsAnError) {
  ChainOptions o = Options();
  o.static_credentials = Credentials{"ENVKEY", "", ""};
  o.static_source = ".env file ./.env";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(".env file"), std::string::npos);
}

TEST_F(ChainTest, DefaultProfileKeys) {
  Write(".aws/credentials",
        std::string("[default]\naws_access_key_id=PROFILE\naws_secret_access_key=") +
            kProfileSecret + "\n[other]\naws_access_key_id=OTHER\naws_secret_access_key=x\n");
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(Options());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "PROFILE");
  EXPECT_EQ((*p)->Source(), "profile 'default' in " + dir_.File(".aws/credentials"));
  ExpectNoSecrets((*p)->Source());
}

TEST_F(ChainTest, AwsProfileSelectsAConfigFileProfile) {
  Write(".aws/config",
        "[default]\nregion=eu-west-1\n[profile dev]\naws_access_key_id=DEV\n"
        "aws_secret_access_key=s\naws_session_token=t\n");
  ChainOptions o = Options();
  o.env["AWS_PROFILE"] = "dev";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "DEV");
  EXPECT_EQ((*p)->Get()->session_token, "t");
}

TEST_F(ChainTest, NamedProfileThatDoesNotExistStopsTheChain) {
  Write(".aws/credentials", "[default]\naws_access_key_id=D\naws_secret_access_key=s\n");
  ChainOptions o = Options();
  o.env["AWS_PROFILE"] = "missing";
  o.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:1/creds";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("AWS_PROFILE=missing"), std::string::npos);
  EXPECT_TRUE(metadata_->requests().empty());
}

TEST_F(ChainTest, ProfileRoleIsAssumedWithTheSourceProfilesKeys) {
  Write(".aws/credentials",
        std::string("[base]\naws_access_key_id=BASEKEY\naws_secret_access_key=") + kProfileSecret +
            "\n");
  Write(".aws/config",
        "[profile backup]\nrole_arn = arn:aws:iam::123456789012:role/backup\n"
        "source_profile = base\nrole_session_name = nightly\nregion = eu-west-1\n");
  ChainOptions o = Options();
  o.env["AWS_PROFILE"] = "backup";
  o.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:5000";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "ASIA1");
  EXPECT_EQ((*p)->Get()->secret_access_key, kTempSecret);
  const std::string source = (*p)->Source();
  EXPECT_NE(source.find("role arn:aws:iam::123456789012:role/backup via STS AssumeRole"),
            std::string::npos)
      << source;
  EXPECT_NE(source.find("profile 'base'"), std::string::npos) << source;
  ExpectNoSecrets(source);

  auto reqs = sts_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:5000/");
  EXPECT_EQ(KeyIdOf(reqs[0]), "BASEKEY");
  EXPECT_NE(reqs[0].Header("Authorization")->find("/eu-west-1/sts/aws4_request"),
            std::string::npos);
  EXPECT_EQ(FormValue(reqs[0].body, "RoleSessionName"), "nightly");

  // Refreshed a few minutes before the hour is up, not before.
  clock_.Advance(std::chrono::minutes(50));
  EXPECT_EQ((*p)->Get()->access_key_id, "ASIA1");
  clock_.Advance(std::chrono::minutes(6));
  EXPECT_EQ((*p)->Get()->access_key_id, "ASIA2");
  EXPECT_EQ(sts_->requests().size(), 2u);
}

TEST_F(ChainTest, ChainedRolesAndCycles) {
  Write(".aws/config",
        "[profile base]\naws_access_key_id=BASEKEY\naws_secret_access_key=s\n"
        "[profile r1]\nrole_arn=arn:aws:iam::1:role/r1\nsource_profile=base\n"
        "[profile r2]\nrole_arn=arn:aws:iam::1:role/r2\nsource_profile=r1\n"
        "[profile c1]\nrole_arn=arn:aws:iam::1:role/c1\nsource_profile=c2\n"
        "[profile c2]\nrole_arn=arn:aws:iam::1:role/c2\nsource_profile=c1\n");
  ChainOptions o = Options();
  o.env["AWS_PROFILE"] = "r2";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto reqs = sts_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(KeyIdOf(reqs[0]), "BASEKEY");
  EXPECT_EQ(KeyIdOf(reqs[1]), "ASIA1");
  EXPECT_EQ((*p)->Get()->access_key_id, "ASIA2");
  // Default STS endpoint, signed for the default region.
  EXPECT_EQ(reqs[0].url, "https://sts.us-east-1.amazonaws.com/");

  o.env["AWS_PROFILE"] = "c1";
  p = DefaultChain(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("cycle"), std::string::npos);
}

TEST_F(ChainTest, DeniedRoleStopsTheChainWithoutSecrets) {
  Write(".aws/credentials",
        std::string("[default]\nrole_arn=arn:aws:iam::1:role/denied\nsource_profile=default\n"
                    "aws_access_key_id=K\naws_secret_access_key=") +
            kProfileSecret + "\n");
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(Options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(p.status().message().find("AccessDenied"), std::string::npos);
  EXPECT_NE(p.status().message().find("arn:aws:iam::1:role/denied"), std::string::npos);
  ExpectNoSecrets(p.status().message());
}

TEST_F(ChainTest, UnsupportedProfileSettingsAreNamed) {
  Write(".aws/config", "[default]\ncredential_process = /bin/creds\n");
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(Options());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("credential_process"), std::string::npos);
}

TEST_F(ChainTest, RegionOnlyProfileIsSkipped) {
  Write(".aws/config", "[default]\nregion = eu-west-1\n");
  Write("token", "jwt-token\n");
  ChainOptions o = Options();
  o.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.File("token");
  o.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "WEB1");
}

TEST_F(ChainTest, WebIdentityRereadsTheTokenOnRefresh) {
  Write("token", "token-one\n");
  ChainOptions o = Options();
  o.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.File("token");
  o.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
  o.env["AWS_ROLE_SESSION_NAME"] = "pod-1";
  o.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Source(),
            "web identity: role arn:aws:iam::1:role/web via STS AssumeRoleWithWebIdentity "
            "(token file " +
                dir_.File("token") + ")");
  Write("token", "token-two\n");
  clock_.Advance(std::chrono::minutes(56));
  EXPECT_EQ((*p)->Get()->access_key_id, "WEB2");
  auto reqs = sts_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_FALSE(reqs[0].Header("Authorization").has_value());
  EXPECT_EQ(FormValue(reqs[0].body, "WebIdentityToken"), "token-one");
  EXPECT_EQ(FormValue(reqs[1].body, "WebIdentityToken"), "token-two");
  EXPECT_EQ(FormValue(reqs[1].body, "RoleSessionName"), "pod-1");
}

TEST_F(ChainTest, WebIdentityHalfConfiguredIsAnError) {
  ChainOptions o = Options();
  o.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos);
}

TEST_F(ChainTest, ContainerCredentialsBeforeInstanceMetadata) {
  metadata_->SetHandler([](const RecordedRequest& r) {
    if (r.url == "http://127.0.0.1:9/creds") {
      return FakeResponse{200,
                          {},
                          std::string(R"({"AccessKeyId":"CONTAINER","SecretAccessKey":")") +
                              kTempSecret + R"(","Token":"t","Expiration":"2023-11-15T00:00:00Z"})",
                          {}};
    }
    return FakeResponse{404, {}, "", {}};
  });
  ChainOptions o = Options();
  o.env.erase("AWS_EC2_METADATA_DISABLED");
  o.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "CONTAINER");
  EXPECT_EQ((*p)->Source(), "container credentials endpoint http://127.0.0.1:9");
  EXPECT_EQ(metadata_->requests().size(), 1u);
}

TEST_F(ChainTest, InstanceMetadataIsTheLastResort) {
  metadata_->SetHandler([](const RecordedRequest& r) {
    if (r.method == "PUT") return FakeResponse{200, {}, "TOKEN", {}};
    if (r.url.ends_with("/security-credentials/")) return FakeResponse{200, {}, "role", {}};
    return FakeResponse{200, {}, R"({"AccessKeyId":"IMDS","SecretAccessKey":"s"})", {}};
  });
  ChainOptions o = Options();
  o.env.erase("AWS_EC2_METADATA_DISABLED");
  o.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9";
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Get()->access_key_id, "IMDS");
  EXPECT_EQ((*p)->Source(), "EC2 instance metadata http://127.0.0.1:9");
}

TEST_F(ChainTest, NothingFoundListsEverySourceOnOneLine) {
  ChainOptions o = Options();
  o.env.erase("AWS_EC2_METADATA_DISABLED");
  Result<std::unique_ptr<CredentialsProvider>> p = DefaultChain(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  const std::string& m = p.status().message();
  EXPECT_TRUE(m.starts_with("no AWS credentials found (tried: ")) << m;
  for (const char* part : {"AWS_ACCESS_KEY_ID", "profile 'default'", "web identity", "container",
                           "EC2 instance metadata"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  EXPECT_EQ(m.find('\n'), std::string::npos);

  o.env["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  p = DefaultChain(o);
  EXPECT_NE(p.status().message().find("disabled by AWS_EC2_METADATA_DISABLED"), std::string::npos);
}

TEST_F(ChainTest, NewProfileProviderDoesNotCallGet) {
  Write(".aws/config",
        "[profile r]\nrole_arn=arn:aws:iam::1:role/r\nsource_profile=b\n"
        "[profile b]\naws_access_key_id=B\naws_secret_access_key=s\n");
  Result<std::unique_ptr<CredentialsProvider>> p = NewProfileProvider(Options(), "r");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(sts_->requests().empty());
  EXPECT_EQ(NewProfileProvider(Options(), "nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace dbbackup::store::s3
