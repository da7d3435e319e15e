// The credentials chain against moto's STS (IAM enforced): a profile with
// role_arn + source_profile is assumed with STS AssumeRole signed by the
// admin's keys, web identity goes through AssumeRoleWithWebIdentity, and the
// temporary credentials then sign a PutObject/GetObject/DeleteObject round
// trip on moto's S3 under the seed policy attached to the role. (moto needs a
// signature on AssumeRoleWithWebIdentity that AWS does not: see
// MotoSigningShim and testing/moto_sts.h.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "env/clock.h"
#include "env/file_util.h"
#include "store/s3/credentials_chain.h"
#include "store/s3/credentials_sts.h"
#include "store/s3/curl_transport.h"
#include "store/s3/fake_transport.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/moto_sts.h"
#include "testing/s3_test_env.h"
#include "testing/temp_dir.h"

namespace dbbackup::store {
namespace {

using testing::S3Server;
using testing::S3Target;
using testing::TestS3Env;

// In-process stand-in for what AWS accepts and moto 5.2.1 does not: see
// SignUnsignedStsRequest (testing/moto_sts.h).
std::shared_ptr<s3::HttpTransport> MotoSigningShim(const S3Target& admin) {
  auto curl = std::make_shared<s3::CurlTransport>(s3::CurlTransportOptions{});
  return std::make_shared<s3::FakeTransport>(
      [curl, admin](const s3::RecordedRequest& r) -> s3::FakeResponse {
        s3::HttpRequest req;
        req.method = r.method;
        req.url = r.url;
        req.headers = r.headers;
        testing::SignUnsignedStsRequest(admin, r.method, r.url, r.body, req.headers);
        StringReader body(r.body);
        req.body = &body;
        req.body_length = r.body.size();
        Result<s3::HttpResponse> res = s3::SendAndReadAll(*curl, req);
        s3::FakeResponse out;
        if (!res.ok()) {
          out.error = res.status();
          return out;
        }
        out.status = res->status;
        out.headers = res->headers;
        out.body = res->body;
        return out;
      });
}

s3::ChainOptions BaseOptions(const TestS3Env& env, const testing::ScopedTempDir& home,
                             env::Clock* clock) {
  s3::ChainOptions o;
  o.env = {{"HOME", home.path().string()},
           {"AWS_ENDPOINT_URL_STS", env.moto_admin.endpoint},
           {"AWS_EC2_METADATA_DISABLED", "true"}};
  o.clock = clock;
  return o;
}

// Put, Get and Delete one object on moto's test bucket signed by `provider`.
void RoundTrip(const TestS3Env& env, std::shared_ptr<s3::CredentialsProvider> provider,
               env::Clock& clock, const std::string& tag) {
  s3::S3Options o;
  o.endpoint = env.moto_admin.endpoint;
  o.allow_http = true;
  o.bucket = env.moto_bucket;
  o.credentials = std::move(provider);
  auto store = NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string key = "credentials-test/" + testing::UniqueBucketName(tag);
  StringReader body("payload signed with temporary credentials");
  Result<ObjectInfo> put = (*store)->Put(key, body, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto reader = (*store)->Get(key);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Result<std::string> data = ReadAll(**reader);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "payload signed with temporary credentials");
  EXPECT_TRUE((*store)->Delete(key).ok());

  // moto enforces the role's policy on the temporary credentials: a bucket
  // the seed policy does not name is denied.
  o.bucket = "dbb-not-in-the-role-policy";
  auto other = NewS3ObjectStore(o, clock);
  ASSERT_TRUE(other.ok());
  StringReader body2("x");
  Result<ObjectInfo> denied = (*other)->Put(key, body2, {});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
}

TEST(S3CredentialsTest, ProfileRoleViaAssumeRoleSignsS3Requests) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kMoto);
  const std::string role = testing::UniqueBucketName("role");
  const std::string arn = testing::CreateSeedRole(
      env.moto_admin, role, testing::TrustAdminUser(env.moto_admin), env.moto_bucket);
  ASSERT_FALSE(arn.empty());

  testing::ScopedTempDir home;
  ASSERT_TRUE(env::MakeDirs(home.File(".aws")).ok());
  ASSERT_TRUE(env::WriteFileAtomic(
                  home.File(".aws/credentials"),
                  "[base]\naws_access_key_id = " + env.moto_admin.credentials.access_key +
                      "\naws_secret_access_key = " + env.moto_admin.credentials.secret_key + "\n")
                  .ok());
  ASSERT_TRUE(env::WriteFileAtomic(home.File(".aws/config"),
                                   "[profile backup]\nrole_arn = " + arn +
                                       "\nsource_profile = base\nregion = us-east-1\n")
                  .ok());
  env::SystemClock clock;
  s3::ChainOptions o = BaseOptions(env, home, &clock);
  o.env["AWS_PROFILE"] = "backup";
  auto provider = s3::DefaultChain(o);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  EXPECT_NE((*provider)->Source().find("via STS AssumeRole"), std::string::npos);
  EXPECT_EQ((*provider)->Source().find(env.moto_admin.credentials.secret_key), std::string::npos);
  Result<s3::Credentials> creds = (*provider)->Get();
  ASSERT_TRUE(creds.ok());
  EXPECT_NE(creds->access_key_id, env.moto_admin.credentials.access_key);
  EXPECT_FALSE(creds->session_token.empty());

  RoundTrip(env, std::shared_ptr<s3::CredentialsProvider>(std::move(provider).value()), clock,
            "assume");
}

TEST(S3CredentialsTest, WebIdentityViaAssumeRoleWithWebIdentitySignsS3Requests) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kMoto);
  const std::string role = testing::UniqueBucketName("webrole");
  const std::string arn =
      testing::CreateSeedRole(env.moto_admin, role, testing::TrustWebIdentity(), env.moto_bucket);
  ASSERT_FALSE(arn.empty());

  testing::ScopedTempDir home;
  ASSERT_TRUE(
      env::WriteFileAtomic(home.File("token"), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\n").ok());
  env::SystemClock clock;
  s3::ChainOptions o = BaseOptions(env, home, &clock);
  o.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = home.File("token");
  o.env["AWS_ROLE_ARN"] = arn;
  o.env["AWS_ROLE_SESSION_NAME"] = "integration";
  o.sts_transport = MotoSigningShim(env.moto_admin);
  auto provider = s3::DefaultChain(o);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  EXPECT_NE((*provider)->Source().find("AssumeRoleWithWebIdentity"), std::string::npos);

  RoundTrip(env, std::shared_ptr<s3::CredentialsProvider>(std::move(provider).value()), clock,
            "web");
}

// Canary for the deviation MotoSigningShim works around: when moto starts
// accepting the unsigned call (as AWS does), drop the shim.
TEST(S3CredentialsTest, MotoRejectsUnsignedAssumeRoleWithWebIdentity) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kMoto);
  s3::CurlTransport transport(s3::CurlTransportOptions{});
  s3::AssumeRoleRequest request;
  request.role_arn = "arn:aws:iam::123456789012:role/any";
  request.session_name = "canary";
  Result<s3::TemporaryCredentials> c = s3::AssumeRoleWithWebIdentity(
      transport, s3::StsEndpoint{env.moto_admin.endpoint, "us-east-1"}, request, "token");
  ASSERT_FALSE(c.ok()) << "moto now accepts unsigned AssumeRoleWithWebIdentity: remove "
                          "MotoSigningShim from this file";
  EXPECT_NE(c.status().message().find("HTTP 500"), std::string::npos) << c.status().ToString();
}

TEST(S3CredentialsTest, RejectedSourceKeysFailClearlyWithoutTheSecret) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kMoto);
  const std::string kBadSecret = "NotTheRealSecretButStillSecret0123456789";
  testing::ScopedTempDir home;
  ASSERT_TRUE(env::MakeDirs(home.File(".aws")).ok());
  ASSERT_TRUE(
      env::WriteFileAtomic(home.File(".aws/config"),
                           "[default]\nrole_arn = arn:aws:iam::123456789012:role/none\n"
                           "source_profile = default\naws_access_key_id = AKIANOTAREALKEY00000\n"
                           "aws_secret_access_key = " +
                               kBadSecret + "\n")
          .ok());
  env::SystemClock clock;
  auto provider = s3::DefaultChain(BaseOptions(env, home, &clock));
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(provider.status().code(), StatusCode::kPermissionDenied)
      << provider.status().ToString();
  EXPECT_NE(provider.status().message().find("AssumeRole"), std::string::npos);
  EXPECT_EQ(provider.status().message().find(kBadSecret), std::string::npos);
}

}  // namespace
}  // namespace dbbackup::store
