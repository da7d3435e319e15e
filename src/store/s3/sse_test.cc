// Server-side encryption headers (sse.h) and where S3ObjectStore sends them:
// SSE-C on every PUT, multipart create AND part, GET and HEAD; the SSE-C key
// file forms; UNSIGNED-PAYLOAD only over https.
#include "store/s3/sse.h"

#include <gtest/gtest.h>

#include "env/file_util.h"
#include "store/s3/crypto.h"
#include "store/s3/fake_transport.h"
#include "store/s3/s3_store.h"
#include "testing/temp_dir.h"

namespace dbbackup::store {
namespace {

using s3::FakeResponse;
using s3::FakeTransport;
using s3::RecordedRequest;

const std::string kKey(32, '\x5a');

s3::S3Options SseCOptions() {
  s3::S3Options o = s3::FakeS3Options();
  o.part_size = 5 * s3::kMiB;
  o.concurrency = 1;
  o.sse = "SSE-C";
  o.sse_customer_key = kKey;
  return o;
}

// Asserts `r` carries the SSE-C triple for kKey and no SSE-S3/KMS header.
void ExpectSseC(const RecordedRequest& r) {
  SCOPED_TRACE(r.method + " " + r.url);
  EXPECT_EQ(r.Header("x-amz-server-side-encryption-customer-algorithm"), "AES256");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption-customer-key"), s3::Base64Encode(kKey));
  EXPECT_EQ(r.Header("x-amz-server-side-encryption-customer-key-MD5"),
            s3::Base64Encode(s3::Md5(kKey)));
  EXPECT_FALSE(r.Header("x-amz-server-side-encryption").has_value());
  // Signed, so a proxy cannot strip them.
  EXPECT_NE(
      r.Header("authorization").value_or("").find("x-amz-server-side-encryption-customer-key-md5"),
      std::string::npos);
}

// A multipart server that accepts everything: an upload id, part ETags
// that are the parts' MD5s, a completed upload.
FakeResponse AcceptMultipart(const RecordedRequest& r) {
  if (r.method == "POST" && r.Query() == "uploads=") {
    return FakeResponse{
        200,
        {},
        "<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>",
        {}};
  }
  if (r.method == "PUT") {
    return FakeResponse{200, {{"etag", "\"" + s3::HexEncode(s3::Md5(r.body)) + "\""}}, "", {}};
  }
  return FakeResponse{
      200,
      {},
      "<CompleteMultipartUploadResult><ETag>\"abc-3\"</ETag></CompleteMultipartUploadResult>",
      {}};
}

TEST(SseTest, ValidationNamesTheProblem) {
  s3::S3Options o = SseCOptions();
  EXPECT_TRUE(s3::ValidateSseOptions(o).ok());
  o.sse_customer_key = "short";
  Status s = s3::ValidateSseOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("32-byte"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find("short"), std::string::npos) << "the key must never be echoed";
  o.sse = "AES256";
  o.sse_customer_key = kKey;
  EXPECT_FALSE(s3::ValidateSseOptions(o).ok());
  o.sse_customer_key.clear();
  o.sse = "aes256";
  EXPECT_NE(s3::ValidateSseOptions(o).message().find("SSE-C"), std::string::npos);
  for (std::string mode : {"AES256", "aws:kms", "none", ""}) {
    o.sse = mode;
    EXPECT_TRUE(s3::ValidateSseOptions(o).ok()) << mode;
  }
}

TEST(SseTest, WriteAndReadHeadersPerMode) {
  s3::S3Options o = SseCOptions();
  EXPECT_EQ(s3::SseWriteHeaders(o).size(), 3u);
  EXPECT_EQ(s3::SseCustomerHeaders(o).size(), 3u);
  o.sse = "aws:kms";
  o.sse_customer_key.clear();
  o.sse_kms_key_id = "key-1";
  EXPECT_EQ(s3::SseWriteHeaders(o),
            (s3::HeaderList{{"x-amz-server-side-encryption", "aws:kms"},
                            {"x-amz-server-side-encryption-aws-kms-key-id", "key-1"}}));
  EXPECT_TRUE(s3::SseCustomerHeaders(o).empty());
  o.sse = "none";
  o.sse_kms_key_id.clear();
  EXPECT_TRUE(s3::SseWriteHeaders(o).empty());
}

TEST(SseTest, KeyFileTakesRawBytesOrBase64) {
  testing::ScopedTempDir dir;
  const std::string raw = (dir.path() / "raw").string();
  const std::string b64 = (dir.path() / "b64").string();
  const std::string bad = (dir.path() / "bad").string();
  ASSERT_TRUE(env::WriteFileAtomic(raw, kKey).ok());
  ASSERT_TRUE(env::WriteFileAtomic(b64, "  " + s3::Base64Encode(kKey) + "\n").ok());
  ASSERT_TRUE(env::WriteFileAtomic(bad, "not-a-key-but-a-secret-anyway").ok());
  for (const std::string& path : {raw, b64}) {
    Result<std::string> key = s3::ReadSseCustomerKeyFile(path);
    ASSERT_TRUE(key.ok()) << path << ": " << key.status().ToString();
    EXPECT_EQ(*key, kKey) << path;
  }
  Result<std::string> r = s3::ReadSseCustomerKeyFile(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(bad), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret-anyway"), std::string::npos);
  EXPECT_FALSE(s3::ReadSseCustomerKeyFile((dir.path() / "missing").string()).ok());
}

class SseStoreTest : public ::testing::Test {
 protected:
  S3ObjectStore& Make(s3::S3Options o, FakeTransport::Handler handler) {
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport_ = t.get();
    store_ = std::make_unique<S3ObjectStore>(std::move(o), clock_, std::move(t));
    return *store_;
  }
  env::FakeClock clock_{std::chrono::system_clock::from_time_t(1700000000)};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(SseStoreTest, SseCGoesOnPutGetAndHead) {
  Make(SseCOptions(), [](const RecordedRequest& r) {
    if (r.method == "GET") return FakeResponse{200, {{"content-length", "5"}}, "hello", {}};
    return FakeResponse{200, {{"etag", "\"e\""}, {"content-length", "5"}}, "", {}};
  });
  StringReader body("hello");
  ASSERT_TRUE(store_->Put("k", body, {}).ok());
  ASSERT_TRUE(store_->Head("k").ok());
  auto reader = store_->Get("k");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Result<std::string> data = ReadAll(**reader);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello");
  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (const RecordedRequest& r : reqs) ExpectSseC(r);
}

TEST_F(SseStoreTest, SseCGoesOnMultipartCreateAndEveryPartButNotComplete) {
  Make(SseCOptions(), AcceptMultipart);
  StringReader body(std::string(11 * s3::kMiB, 'x'));
  ASSERT_TRUE(store_->Put("big", body, {}).ok());
  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 5u);  // create, 3 parts, complete
  int parts = 0;
  for (const RecordedRequest& r : reqs) {
    if (r.method == "POST" && r.Query() != "uploads=") {
      EXPECT_FALSE(r.Header("x-amz-server-side-encryption-customer-key").has_value());
      continue;
    }
    if (r.method == "PUT") ++parts;
    ExpectSseC(r);
  }
  EXPECT_EQ(parts, 3);
}

TEST_F(SseStoreTest, HeadWithoutOrWithAWrongKeySaysWhatToCheck) {
  // S3 answers HEAD of an SSE-C object without its key with a bare 400.
  s3::S3Options plain = SseCOptions();
  plain.sse = "AES256";
  plain.sse_customer_key.clear();
  Make(plain, [](const RecordedRequest&) { return FakeResponse{400, {}, "", {}}; });
  Result<ObjectInfo> head = store_->Head("k");
  ASSERT_FALSE(head.ok());
  EXPECT_NE(head.status().message().find("BACKUP_SSE=SSE-C"), std::string::npos)
      << head.status().ToString();
  EXPECT_EQ(head.status().message().find('\n'), std::string::npos);

  // And with a wrong key, 403 (AWS) or 400 (Ceph RGW).
  for (int status : {400, 403}) {
    Make(SseCOptions(), [status](const RecordedRequest&) {
      return FakeResponse{status, {}, "", {}};
    });
    head = store_->Head("k");
    ASSERT_FALSE(head.ok());
    EXPECT_NE(head.status().message().find("BACKUP_SSE_CUSTOMER_KEY_FILE"), std::string::npos)
        << status << ": " << head.status().ToString();
    EXPECT_EQ(head.status().message().find(s3::Base64Encode(kKey)), std::string::npos);
  }
}

TEST_F(SseStoreTest, UnsignedPayloadOnlyOverHttps) {
  s3::S3Options o = SseCOptions();
  o.sse = "AES256";
  o.sse_customer_key.clear();
  o.unsigned_payload = true;
  Status s = s3::ValidateS3Options(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("https"), std::string::npos) << s.ToString();

  o.endpoint = "https://127.0.0.1:9000";
  ASSERT_TRUE(s3::ValidateS3Options(o).ok());
  Make(o, [](const RecordedRequest&) { return FakeResponse{200, {{"etag", "\"e\""}}, "", {}}; });
  StringReader body("hello");
  ASSERT_TRUE(store_->Put("k", body, {}).ok());
  EXPECT_EQ(transport_->requests()[0].Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  // Content-MD5 still protects the body.
  EXPECT_EQ(transport_->requests()[0].Header("content-md5"), s3::Base64Encode(s3::Md5("hello")));
}

TEST_F(SseStoreTest, UnsignedPayloadPartsCarryContentMd5) {
  s3::S3Options o = SseCOptions();
  o.sse = "AES256";
  o.sse_customer_key.clear();
  o.unsigned_payload = true;
  o.endpoint = "https://127.0.0.1:9000";
  o.part_size = 5 * s3::kMiB;
  Make(o, AcceptMultipart);
  StringReader body(std::string(6 * s3::kMiB, 'x'));
  ASSERT_TRUE(store_->Put("k", body, {}).ok());
  int parts = 0;
  for (const RecordedRequest& r : transport_->requests()) {
    if (r.Query().find("partNumber=") == std::string::npos) continue;
    ++parts;
    EXPECT_EQ(r.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    // Without a signed hash, Content-MD5 is S3's only check of the part.
    EXPECT_EQ(r.Header("content-md5"), s3::Base64Encode(s3::Md5(r.body)));
  }
  EXPECT_EQ(parts, 2);
}

}  // namespace
}  // namespace dbbackup::store
