#include "store/s3/errors.h"

#include <gtest/gtest.h>

namespace dbbackup::store::s3 {
namespace {

const RequestContext kPut{"s3:PutObject", "bkt", "db/full.zst", "us-east-1"};
const RequestContext kBucket{"s3:ListBucket", "bkt", "", "us-east-1"};

Status Map(int status, const std::string& code, const RequestContext& ctx = kPut,
           const HeaderList& headers = {}) {
  return MapErrorResponse(status, headers,
                          "<Error><Code>" + code + "</Code><Message></Message></Error>", ctx);
}

TEST(Errors, UserFacingMessages) {
  EXPECT_EQ(Map(404, "NoSuchBucket").message(),
            "bucket 'bkt' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
  EXPECT_EQ(Map(404, "NoSuchBucket").code(), StatusCode::kNotFound);
  EXPECT_EQ(Map(404, "NoSuchKey").message(), "object not found: db/full.zst");
  Status denied = Map(403, "AccessDenied");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "access denied for s3:PutObject on arn:aws:s3:::bkt/db/full.zst (check that the IAM "
            "policy of these credentials allows s3:PutObject on that resource, and "
            "S3_BACKUP_BUCKET)");
  EXPECT_NE(Map(403, "InvalidAccessKeyId").message().find("check AWS_ACCESS_KEY_ID"),
            std::string::npos);
  EXPECT_NE(Map(403, "SignatureDoesNotMatch").message().find("check AWS_SECRET_ACCESS_KEY"),
            std::string::npos);
  EXPECT_NE(Map(400, "ExpiredToken").message().find("expired"), std::string::npos);
  EXPECT_EQ(Map(412, "PreconditionFailed").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Map(403, "RequestTimeTooSkewed").code(), StatusCode::kFailedPrecondition);
}

// Each error a user meets says, on one line, what to check.
TEST(Errors, EachSaysWhatToCheck) {
  struct Case {
    int status;
    const char* code;
    StatusCode want;
    const char* text;
  };
  const Case cases[] = {
      {404, "NoSuchBucket", StatusCode::kNotFound, "check S3_BACKUP_BUCKET, AWS_REGION"},
      {403, "AccessDenied", StatusCode::kPermissionDenied,
       "s3:PutObject on arn:aws:s3:::bkt/db/full.zst (check that the IAM policy"},
      {403, "InvalidAccessKeyId", StatusCode::kPermissionDenied,
       "access key id is not known to the server (check AWS_ACCESS_KEY_ID, and that "
       "S3_ENDPOINT_URL"},
      {403, "SignatureDoesNotMatch", StatusCode::kPermissionDenied,
       "(check AWS_SECRET_ACCESS_KEY for stray spaces"},
      {400, "ExpiredToken", StatusCode::kPermissionDenied,
       "session token has expired (refresh the temporary credentials, or unset a stale "
       "AWS_SESSION_TOKEN)"},
  };
  for (const Case& c : cases) {
    Status s = Map(c.status, c.code);
    EXPECT_EQ(s.code(), c.want) << c.code;
    EXPECT_NE(s.message().find(c.text), std::string::npos) << c.code << ": " << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << c.code;
    EXPECT_FALSE(s.retryable()) << c.code;
  }
}

TEST(Errors, MessagesAreOneLine) {
  Status s = MapErrorResponse(
      409, {}, "<Error><Code>Weird</Code><Message>line1\nline2</Message></Error>", kPut);
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Weird"), std::string::npos);
}

TEST(Errors, RetryableOnlyWhenTransient) {
  EXPECT_TRUE(Map(503, "SlowDown").retryable());
  EXPECT_TRUE(Map(500, "InternalError").retryable());
  EXPECT_TRUE(Map(400, "RequestTimeout").retryable());
  EXPECT_TRUE(MapErrorResponse(502, {}, "<html>bad gateway</html>", kPut).retryable());
  EXPECT_TRUE(MapErrorResponse(504, {}, "", kPut).retryable());
  EXPECT_FALSE(Map(403, "AccessDenied").retryable());
  EXPECT_FALSE(Map(404, "NoSuchKey").retryable());
  EXPECT_FALSE(Map(400, "InvalidArgument").retryable());
  EXPECT_FALSE(MapErrorResponse(403, {}, "", kPut).retryable());
}

TEST(Errors, BodylessStatusesForHeadRequests) {
  EXPECT_EQ(MapErrorResponse(404, {}, "", kBucket).message(),
            "bucket 'bkt' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
  EXPECT_EQ(MapErrorResponse(404, {}, "", kPut).message(), "object not found: db/full.zst");
  EXPECT_TRUE(MapErrorResponse(403, {}, "", kBucket)
                  .message()
                  .starts_with("access denied for s3:ListBucket on arn:aws:s3:::bkt (check"));
  Status moved = MapErrorResponse(301, {{"x-amz-bucket-region", "eu-central-1"}}, "", kBucket);
  EXPECT_EQ(moved.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(moved.message().find("eu-central-1"), std::string::npos);
  EXPECT_NE(moved.message().find("x-amz-bucket-region"), std::string::npos);
}

TEST(Errors, WrongRegionFromErrorCode) {
  Status s = MapErrorResponse(
      400, {},
      "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is "
      "wrong; expecting 'ap-south-1'</Message><Region>ap-south-1</Region></Error>",
      kPut);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("ap-south-1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace dbbackup::store::s3
