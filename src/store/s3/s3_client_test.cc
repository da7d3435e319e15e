// Hermetic tests of S3Client's self-corrections over FakeTransport and
// FakeClock: a wrong region (each shape the SDKs recover from) and a skewed
// clock are fixed once, remembered, and logged once.
#include "store/s3/s3_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/log.h"
#include "store/s3/fake_transport.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {
namespace {

constexpr int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z

FakeResponse Xml(int status, std::string body, HeaderList headers = {}) {
  headers.emplace_back("content-type", "application/xml");
  return FakeResponse{status, std::move(headers), std::move(body), {}};
}

// The region in a request's Authorization credential scope.
std::string SignedRegion(const RecordedRequest& r) {
  std::string authz = r.Header("authorization").value_or("");
  size_t cred = authz.find("Credential=");
  if (cred == std::string::npos) return "";
  // AKID/20231114/REGION/s3/aws4_request
  size_t a = authz.find('/', cred);
  size_t b = authz.find('/', a + 1);
  size_t c = authz.find('/', b + 1);
  return authz.substr(b + 1, c - b - 1);
}

// An HTTP Date header for Unix time `t`.
std::string HttpDate(int64_t t) {
  char buf[64];
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// The x-amz-date a request was signed with, as Unix time.
int64_t SignedTime(const RecordedRequest& r) {
  std::string d = r.Header("x-amz-date").value_or("");  // 20231114T221320Z
  std::tm tm{};
  strptime(d.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  return static_cast<int64_t>(timegm(&tm));
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetSink([this](log::Level level, std::string_view m) {
      if (level == log::Level::kInfo) infos_.emplace_back(m);
    });
  }
  void TearDown() override { log::SetSink({}); }

  S3Options Options() { return FakeS3Options(); }

  S3Client& Make(S3Options o, FakeTransport::Handler handler) {
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport_ = t.get();
    client_ = std::make_unique<S3Client>(std::move(o), clock_, std::move(t));
    return *client_;
  }

  static S3Request Get(std::string key) {
    S3Request r;
    r.action = "s3:GetObject";
    r.key = std::move(key);
    return r;
  }
  static S3Request HeadBucket() {
    S3Request r;
    r.method = "HEAD";
    r.action = "s3:ListBucket";
    return r;
  }

  // A server whose bucket lives in eu-west-1 and answers requests signed for
  // any other region with `wrong`.
  FakeTransport::Handler InEuWest1(std::function<FakeResponse()> wrong) {
    return [wrong](const RecordedRequest& r) {
      if (SignedRegion(r) != "eu-west-1") return wrong();
      return FakeResponse{200, {{"content-length", "2"}}, "ok", {}};
    };
  }

  void ExpectRegionRecovered() {
    ASSERT_TRUE(client_->Call(Get("a")).ok());
    ASSERT_TRUE(client_->Call(Get("b")).ok());
    std::vector<RecordedRequest> reqs = transport_->requests();
    ASSERT_EQ(reqs.size(), 3u);  // wrong, corrected, and then right at once
    EXPECT_EQ(SignedRegion(reqs[0]), "us-east-1");
    EXPECT_EQ(SignedRegion(reqs[1]), "eu-west-1");
    EXPECT_EQ(SignedRegion(reqs[2]), "eu-west-1");
    EXPECT_EQ(client_->SigningRegion(), "eu-west-1");
    ASSERT_EQ(infos_.size(), 1u);
    EXPECT_NE(infos_[0].find("region eu-west-1"), std::string::npos) << infos_[0];
  }

  env::FakeClock clock_{std::chrono::system_clock::from_time_t(kStart)};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<S3Client> client_;
  std::vector<std::string> infos_;
};

TEST_F(S3ClientTest, PermanentRedirectSwitchesRegion) {
  Make(Options(), InEuWest1([] {
         return Xml(301,
                    "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting "
                    "to access must be addressed using the specified endpoint.</Message>"
                    "<Endpoint>bkt.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>bkt</Bucket>"
                    "</Error>",
                    {{"x-amz-bucket-region", "eu-west-1"}});
       }));
  ExpectRegionRecovered();
}

TEST_F(S3ClientTest, AuthorizationHeaderMalformedRegionFromBody) {
  Make(Options(), InEuWest1([] {
         return Xml(400,
                    "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
                    "'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
                    "<Region>eu-west-1</Region></Error>");
       }));
  ExpectRegionRecovered();
}

TEST_F(S3ClientTest, BareBadRequestWithBucketRegionHeader) {
  Make(Options(), InEuWest1([] {
         return FakeResponse{400, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
       }));
  ASSERT_TRUE(client_->Call(HeadBucket()).ok());
  ASSERT_EQ(transport_->requests().size(), 2u);
  EXPECT_EQ(SignedRegion(transport_->requests()[1]), "eu-west-1");
}

TEST_F(S3ClientTest, BareMovedPermanentlyWithBucketRegionHeader) {
  Make(Options(), InEuWest1([] {
         return FakeResponse{301, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
       }));
  ExpectRegionRecovered();
}

TEST_F(S3ClientTest, AwsEndpointFollowsTheRegion) {
  S3Options o = Options();
  o.endpoint.clear();
  o.allow_http = false;
  Make(o, InEuWest1([] {
         return FakeResponse{301, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
       }));
  ASSERT_TRUE(client_->Call(Get("k")).ok());
  std::vector<RecordedRequest> reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].url, "https://bkt.s3.us-east-1.amazonaws.com/k");
  EXPECT_EQ(reqs[1].url, "https://bkt.s3.eu-west-1.amazonaws.com/k");
  EXPECT_EQ(reqs[1].Header("host"), "bkt.s3.eu-west-1.amazonaws.com");
}

TEST_F(S3ClientTest, CustomEndpointKeepsItsHost) {
  Make(Options(), InEuWest1([] {
         return FakeResponse{301, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
       }));
  ASSERT_TRUE(client_->Call(Get("k")).ok());
  for (const RecordedRequest& r : transport_->requests()) {
    EXPECT_EQ(r.url, "http://127.0.0.1:9000/bkt/k");
  }
}

TEST_F(S3ClientTest, RedirectThatPersistsIsTriedOnceAndExplained) {
  Make(Options(), [](const RecordedRequest&) {
    return FakeResponse{301, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
  });
  Result<HttpResponse> res = client_->Call(HeadBucket());
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(res.status().message().find("region eu-west-1"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(S3ClientTest, OtherBadRequestIsNotARegionProblem) {
  Make(Options(), [](const RecordedRequest&) {
    return Xml(400, "<Error><Code>InvalidArgument</Code></Error>");
  });
  EXPECT_EQ(client_->Call(Get("k")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(client_->SigningRegion(), "us-east-1");
}

// A server an hour ahead of our clock, enforcing S3's 15 minute window.
FakeResponse SkewedServer(const RecordedRequest& r, bool with_code) {
  const int64_t server_now = kStart + 3600;
  HeaderList h = {{"date", HttpDate(server_now)}};
  if (std::llabs(SignedTime(r) - server_now) > 15 * 60) {
    if (!with_code) return FakeResponse{403, h, "", {}};
    return Xml(403,
               "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the "
               "request time and the current time is too large.</Message></Error>",
               h);
  }
  h.emplace_back("content-length", "2");
  return FakeResponse{200, h, "ok", {}};
}

TEST_F(S3ClientTest, RequestTimeTooSkewedAppliesTheServersClock) {
  Make(Options(), [](const RecordedRequest& r) { return SkewedServer(r, true); });
  ASSERT_TRUE(client_->Call(Get("a")).ok());
  ASSERT_TRUE(client_->Call(Get("b")).ok());
  std::vector<RecordedRequest> reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(SignedTime(reqs[0]), kStart);
  EXPECT_EQ(SignedTime(reqs[1]), kStart + 3600);
  EXPECT_EQ(SignedTime(reqs[2]), kStart + 3600);
  EXPECT_EQ(client_->ClockOffset(), std::chrono::seconds(3600));
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_NE(infos_[0].find("clock is 3600 s behind the server's"), std::string::npos) << infos_[0];
}

TEST_F(S3ClientTest, BodilessForbiddenWithAFarOffDateIsSkew) {
  Make(Options(), [](const RecordedRequest& r) { return SkewedServer(r, false); });
  ASSERT_TRUE(client_->Call(HeadBucket()).ok());
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(S3ClientTest, ForbiddenWithACloseDateIsAccessDenied) {
  Make(Options(), [](const RecordedRequest&) {
    return FakeResponse{403, {{"date", HttpDate(kStart + 60)}}, "", {}};
  });
  EXPECT_EQ(client_->Call(HeadBucket()).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(client_->ClockOffset(), std::chrono::seconds(0));
}

TEST_F(S3ClientTest, SkewCorrectedOnceOnly) {
  Make(Options(), [](const RecordedRequest&) {
    return Xml(403, "<Error><Code>RequestTimeTooSkewed</Code></Error>",
               {{"date", HttpDate(kStart + 7200)}});
  });
  Result<HttpResponse> res = client_->Call(Get("k"));
  EXPECT_EQ(res.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(res.status().message().find("clock"), std::string::npos);
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(S3ClientTest, OpenRecoversLikeCall) {
  Make(Options(), [](const RecordedRequest& r) { return SkewedServer(r, true); });
  auto stream = client_->Open(Get("k"));
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(*ReadAll(**stream), "ok");
}

// Transport failures get the setting to check appended; they are not retried
// when they cannot succeed (DNS, TLS) and are when they may (refused).
TEST_F(S3ClientTest, TransportErrorsSayWhatToCheck) {
  struct Case {
    Status error;
    std::string endpoint;
    int attempts;
    std::string suffix;
  };
  const Case cases[] = {
      {Status(StatusCode::kUnavailable, "cannot connect to http://127.0.0.1:9000: refused", true),
       "http://127.0.0.1:9000", 2, " (check S3_ENDPOINT_URL and that the server is running)"},
      {Status(StatusCode::kUnavailable,
              "cannot resolve the host name of http://nonexistent.invalid: no such host", false),
       "http://nonexistent.invalid", 1, " (check S3_ENDPOINT_URL and DNS)"},
      {Status(StatusCode::kUnavailable,
              "cannot resolve the host name of https://bkt.s3.us-east-1.amazonaws.com: x", false),
       "", 1, " (check AWS_REGION, S3_BACKUP_BUCKET and DNS)"},
      {Status(StatusCode::kDeadlineExceeded, "timed out talking to http://127.0.0.1:9000: x", true),
       "http://127.0.0.1:9000", 2,
       " (check S3_ENDPOINT_URL and the network; BACKUP_S3_CONNECT_TIMEOUT and "
       "BACKUP_S3_STALL_TIMEOUT set the limits)"},
  };
  for (const Case& c : cases) {
    S3Options o = Options();
    o.endpoint = c.endpoint;
    o.allow_http = !c.endpoint.empty();
    o.max_attempts = 2;
    Make(o, [&c](const RecordedRequest&) {
      FakeResponse r;
      r.error = c.error;
      return r;
    });
    Status s = client_->Call(Get("k")).status();
    EXPECT_EQ(s.code(), c.error.code());
    EXPECT_EQ(s.message(), c.error.message() + c.suffix);
    EXPECT_EQ(static_cast<int>(transport_->requests().size()), c.attempts) << s.message();
  }
}

}  // namespace
}  // namespace dbbackup::store::s3
