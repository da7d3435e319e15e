// STS AssumeRole / AssumeRoleWithWebIdentity over FakeTransport: request
// shape (signed form POST), response parsing, error mapping, no secrets in
// messages.
#include "store/s3/credentials_sts.h"

#include <gtest/gtest.h>

#include "store/s3/crypto.h"
#include "store/s3/fake_transport.h"

namespace dbbackup::store::s3 {
namespace {

constexpr char kSecret[] = "SourceSecretThatMustNeverAppear";
constexpr char kToken[] = "SourceSessionTokenNeverShown";
constexpr char kWebToken[] = "eyJhbGciOiJSUzI1NiJ9.web-identity-token.sig";
const auto kNow = std::chrono::system_clock::from_time_t(1700000000);  // 2023-11-14T22:13:20Z

std::string Response(const std::string& action, const std::string& expiration) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>ASIATEMP</AccessKeyId>"
         "<SecretAccessKey>TempSecret</SecretAccessKey><SessionToken>TempToken</SessionToken>"
         "<Expiration>" +
         expiration + "</Expiration></Credentials><AssumedRoleUser><Arn>arn:x</Arn>" +
         "</AssumedRoleUser></" + action + "Result><ResponseMetadata><RequestId>1</RequestId>" +
         "</ResponseMetadata></" + action + "Response>";
}

FakeResponse Answer(int status, std::string body) { return FakeResponse{status, {}, body, {}}; }

AssumeRoleRequest Request() {
  AssumeRoleRequest r;
  r.role_arn = "arn:aws:iam::123456789012:role/backup";
  r.session_name = "dbbackup-1";
  return r;
}

TEST(StsEndpointTest, ServiceVariableThenGlobalThenRegional) {
  EXPECT_EQ(ResolveStsEndpoint({}, "eu-west-1").url, "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveStsEndpoint({}, "").region, "us-east-1");
  EXPECT_EQ(ResolveStsEndpoint({{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000/"}}, "r").url,
            "http://127.0.0.1:5000");
  EXPECT_EQ(ResolveStsEndpoint(
                {{"AWS_ENDPOINT_URL", "http://a"}, {"AWS_ENDPOINT_URL_STS", "http://b"}}, "r")
                .url,
            "http://b");
}

TEST(AssumeRoleTest, SignedFormPostAndParsedCredentials) {
  FakeTransport t([](const RecordedRequest&) {
    return Answer(200, Response("AssumeRole", "2023-11-14T23:13:20Z"));
  });
  StsEndpoint ep{"http://127.0.0.1:5000", "eu-west-1"};
  AssumeRoleRequest req = Request();
  req.external_id = "ext id";
  Result<TemporaryCredentials> c =
      AssumeRole(t, ep, Credentials{"AKIDSOURCE", kSecret, kToken}, req, kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIATEMP");
  EXPECT_EQ(c->credentials.secret_access_key, "TempSecret");
  EXPECT_EQ(c->credentials.session_token, "TempToken");
  EXPECT_EQ(*c->expiration, kNow + std::chrono::hours(1));

  ASSERT_EQ(t.requests().size(), 1u);
  const RecordedRequest r = t.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:5000/");
  EXPECT_EQ(r.body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole"
            "%2Fbackup&RoleSessionName=dbbackup-1&ExternalId=ext%20id");
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:5000");
  EXPECT_EQ(r.Header("x-amz-date"), "20231114T221320Z");
  EXPECT_EQ(r.Header("x-amz-security-token"), kToken);
  const std::string auth = r.Header("Authorization").value_or("");
  EXPECT_TRUE(auth.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20231114/eu-west-1/sts/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="))
      << auth;
  // The signature is what the signer computes for exactly this request.
  SigningRequest s;
  s.method = "POST";
  s.payload_hash = Sha256Hex(r.body);
  for (const auto& h : r.headers) {
    if (h.first != "Authorization") s.headers.push_back(h);
  }
  EXPECT_EQ(auth, SignV4(s, Credentials{"AKIDSOURCE", kSecret, kToken},
                         SigningScope{"eu-west-1", "sts", kNow})
                      .authorization);
  EXPECT_EQ(auth.find(kSecret), std::string::npos);
}

TEST(AssumeRoleTest, DurationIsSentWhenSet) {
  AssumeRoleRequest req = Request();
  req.duration_seconds = 900;
  EXPECT_NE(AssumeRoleBody(req).find("&DurationSeconds=900"), std::string::npos);
}

TEST(AssumeRoleTest, AccessDeniedNamesRoleAndCodeButNoSecret) {
  FakeTransport t([](const RecordedRequest&) {
    return Answer(403,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>"
                  "User is not authorized to perform: sts:AssumeRole (echo " +
                      std::string(kSecret) + ")</Message></Error></ErrorResponse>");
  });
  Result<TemporaryCredentials> c =
      AssumeRole(t, StsEndpoint{"https://sts.example", "us-east-1"},
                 Credentials{"AKID", kSecret, kToken}, Request(), kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("AccessDenied"), std::string::npos) << m;
  EXPECT_NE(m.find("arn:aws:iam::123456789012:role/backup"), std::string::npos);
  EXPECT_NE(m.find("https://sts.example"), std::string::npos);
  EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
  EXPECT_EQ(m.find(kToken), std::string::npos);
}

TEST(AssumeRoleTest, ErrorsNestedInErrorsAsMotoSendsThem) {
  Status s =
      MapStsError(403,
                  "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>AccessDenied"
                  "</Code><Message>not authorized</Message></Error></Errors></ErrorResponse>",
                  "AssumeRole", "arn:r");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("AccessDenied (HTTP 403): not authorized"), std::string::npos)
      << s.message();
}

TEST(AssumeRoleTest, ThrottlingAndTransportFailuresAreRetryable) {
  FakeTransport t([](const RecordedRequest&) {
    return Answer(400, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>");
  });
  StsEndpoint ep{"https://sts.example", "us-east-1"};
  Result<TemporaryCredentials> c =
      AssumeRole(t, ep, Credentials{"A", kSecret, ""}, Request(), kNow);
  EXPECT_TRUE(c.status().retryable());
  t.SetHandler([](const RecordedRequest&) {
    FakeResponse r;
    r.error = Status::Unavailable("cannot connect to https://sts.example: Connection refused");
    return r;
  });
  c = AssumeRole(t, ep, Credentials{"A", kSecret, ""}, Request(), kNow);
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(c.status().retryable());
  EXPECT_NE(c.status().message().find("AssumeRole"), std::string::npos);
}

TEST(AssumeRoleWithWebIdentityTest, UnsignedFormPostWithTheToken) {
  FakeTransport t([](const RecordedRequest&) {
    return Answer(200, Response("AssumeRoleWithWebIdentity", "2023-11-15T00:00:00.000Z"));
  });
  Result<TemporaryCredentials> c = AssumeRoleWithWebIdentity(
      t, StsEndpoint{"http://127.0.0.1:5000", "us-east-1"}, Request(), kWebToken);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIATEMP");
  const RecordedRequest r = t.requests()[0];
  EXPECT_FALSE(r.Header("Authorization").has_value());
  EXPECT_EQ(r.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
            "123456789012%3Arole%2Fbackup&RoleSessionName=dbbackup-1&WebIdentityToken=" +
                std::string(kWebToken));
}

TEST(AssumeRoleWithWebIdentityTest, ErrorNeverEchoesTheToken) {
  FakeTransport t([](const RecordedRequest&) {
    return Answer(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad " +
                           std::string(kWebToken) + "</Message></Error></ErrorResponse>");
  });
  Result<TemporaryCredentials> c = AssumeRoleWithWebIdentity(
      t, StsEndpoint{"http://127.0.0.1:5000", "us-east-1"}, Request(), kWebToken);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("InvalidIdentityToken"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kWebToken), std::string::npos);
}

TEST(ParseStsCredentialsTest, RejectsOtherDocuments) {
  EXPECT_EQ(ParseStsCredentials("", "AssumeRole").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseStsCredentials("not xml", "AssumeRole").status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(ParseStsCredentials(Response("AssumeRoleWithWebIdentity", "2023-11-15T00:00:00Z"),
                                   "AssumeRole")
                   .ok());
  EXPECT_FALSE(ParseStsCredentials(Response("AssumeRole", "yesterday"), "AssumeRole").ok());
}

}  // namespace
}  // namespace dbbackup::store::s3
