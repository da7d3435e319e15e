// Hermetic tests of S3ObjectStore over FakeTransport and FakeClock: request
// shapes, single vs multipart, retries, error messages, abort on failure.
#include "store/s3/s3_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "common/log.h"
#include "store/s3/crypto.h"
#include "store/s3/fake_transport.h"
#include "store/s3/multipart.h"

namespace dbbackup::store {
namespace {

using s3::FakeResponse;
using s3::FakeTransport;
using s3::HeaderList;
using s3::kMiB;
using s3::RecordedRequest;

constexpr char kSecret[] = "TopSecretKeyThatMustNeverBeLogged";

FakeResponse Xml(int status, std::string body) {
  return FakeResponse{status, {{"content-type", "application/xml"}}, std::move(body), {}};
}
FakeResponse ErrorXml(int status, const std::string& code) {
  return Xml(status,
             "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message></Message></Error>");
}
FakeResponse Ok(HeaderList headers = {}) { return FakeResponse{200, std::move(headers), "", {}}; }

class S3StoreTest : public ::testing::Test {
 protected:
  s3::S3Options Options() {
    s3::S3Options o = s3::FakeS3Options(kSecret);
    o.part_size = 5 * kMiB;
    o.concurrency = 2;
    return o;
  }

  // Builds the store; `transport_` stays valid as a view into it.
  S3ObjectStore& Make(s3::S3Options o, FakeTransport::Handler handler) {
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport_ = t.get();
    store_ = std::make_unique<S3ObjectStore>(std::move(o), clock_, std::move(t));
    return *store_;
  }
  S3ObjectStore& Make(FakeTransport::Handler handler) { return Make(Options(), handler); }

  Result<ObjectInfo> Put(const std::string& key, std::string data, PutOptions opts = {}) {
    StringReader r(std::move(data));
    return store_->Put(key, r, opts);
  }

  env::FakeClock clock_{std::chrono::system_clock::from_time_t(1700000000)};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<S3ObjectStore> store_;
};

// Multipart server: answers Create/UploadPart/Complete/Abort and records parts.
struct MultipartServer {
  std::mutex mu;
  std::map<int, std::string> parts;
  std::function<FakeResponse(const RecordedRequest&)> override_part;
  FakeResponse complete = Xml(200,
                              "<CompleteMultipartUploadResult><ETag>\"abc-3\"</ETag>"
                              "</CompleteMultipartUploadResult>");
  FakeResponse abort = FakeResponse{204, {}, "", {}};

  FakeResponse operator()(const RecordedRequest& r) {
    const std::string q = r.Query();
    if (r.method == "POST" && q == "uploads=") {
      return Xml(200,
                 "<InitiateMultipartUploadResult><UploadId>UP/1+x</UploadId>"
                 "</InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT" && q.find("partNumber=") != std::string::npos) {
      if (override_part) {
        FakeResponse res = override_part(r);
        if (res.status != 0 || !res.error.ok()) return res;
      }
      int n = std::stoi(q.substr(q.find("partNumber=") + 11));
      std::lock_guard<std::mutex> lock(mu);
      parts[n] = r.body;
      return Ok({{"etag", "\"" + s3::HexEncode(s3::Md5(r.body)) + "\""}});
    }
    if (r.method == "POST") return complete;
    if (r.method == "DELETE") return abort;
    return ErrorXml(400, "Unexpected");
  }
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

// ------------------------------------------------------------ single PUT

TEST_F(S3StoreTest, SmallBodyIsOneSignedPutWithMd5MetadataAndSse) {
  Make([](const RecordedRequest&) { return Ok({{"etag", "\"d41d\""}}); });
  PutOptions opts;
  opts.metadata = {{"db", "main"}, {"format-version", "1"}};
  opts.content_type = "application/zstd";
  auto info = Put("backups/my key+1.bin", "hello", opts);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->etag, "d41d");
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->metadata, opts.metadata);

  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  const RecordedRequest& r = reqs[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:9000/bkt/backups/my%20key%2B1.bin");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.Header("content-md5"), s3::Base64Encode(s3::Md5("hello")));
  EXPECT_EQ(r.Header("x-amz-content-sha256"), s3::Sha256Hex("hello"));
  EXPECT_EQ(r.Header("content-type"), "application/zstd");
  EXPECT_EQ(r.Header("x-amz-meta-db"), "main");
  EXPECT_EQ(r.Header("x-amz-meta-format-version"), "1");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:9000");
  EXPECT_EQ(r.Header("x-amz-date"), "20231114T221320Z");
  EXPECT_FALSE(r.Header("if-none-match").has_value());
  std::string authz = r.Header("authorization").value_or("");
  EXPECT_TRUE(authz.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/20231114/us-east-1/s3/"))
      << authz;
  EXPECT_NE(authz.find("content-md5;content-type;host;x-amz-content-sha256;x-amz-date;"
                       "x-amz-meta-db;x-amz-meta-format-version;x-amz-server-side-encryption"),
            std::string::npos)
      << authz;
  EXPECT_EQ(authz.find(kSecret), std::string::npos);
}

TEST_F(S3StoreTest, SseNoneSendsNoHeaderAndKmsSendsKeyId) {
  s3::S3Options o = Options();
  o.sse = "none";
  Make(o, [](const RecordedRequest&) { return Ok(); });
  ASSERT_TRUE(Put("k", "x").ok());
  EXPECT_FALSE(transport_->requests()[0].Header("x-amz-server-side-encryption").has_value());

  o.sse = "aws:kms";
  o.sse_kms_key_id = "arn:aws:kms:us-east-1:1:key/abc";
  Make(o, [](const RecordedRequest&) { return Ok(); });
  ASSERT_TRUE(Put("k", "x").ok());
  auto r = transport_->requests()[0];
  EXPECT_EQ(r.Header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption-aws-kms-key-id"),
            "arn:aws:kms:us-east-1:1:key/abc");
}

// Up to one part an object is a single PUT, whose etag is its MD5; beyond,
// it is multipart ("...-N"). SSE-C and SSE-KMS etags are never the MD5.
TEST_F(S3StoreTest, Md5EtagLimitIsOnePartWithoutSseCOrKms) {
  s3::S3Options o = Options();
  for (const char* sse : {"none", "AES256"}) {
    o.sse = sse;
    EXPECT_EQ(Make(o, [](const RecordedRequest&) { return Ok(); }).Md5EtagLimit(), 5 * kMiB) << sse;
  }
  o.sse = "aws:kms";
  EXPECT_EQ(Make(o, [](const RecordedRequest&) { return Ok(); }).Md5EtagLimit(), 0u);
  o.sse = "SSE-C";
  o.sse_customer_key = std::string(32, 'k');
  EXPECT_EQ(Make(o, [](const RecordedRequest&) { return Ok(); }).Md5EtagLimit(), 0u);
}

TEST_F(S3StoreTest, IfNoneMatchSendsStarAnd412IsAlreadyExists) {
  Make([](const RecordedRequest&) { return ErrorXml(412, "PreconditionFailed"); });
  PutOptions opts;
  opts.if_none_match = true;
  auto info = Put("k", "x", opts);
  EXPECT_EQ(info.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(info.status().message(), "object already exists: k");
  EXPECT_EQ(transport_->requests()[0].Header("if-none-match"), "*");
  EXPECT_EQ(transport_->requests().size(), 1u) << "412 is not retried";
}

// The first PUT lands but its answer is lost; the retry's 412 finds our own
// bytes (ETag = MD5), which is success. Different bytes stay a conflict, and
// so does a first attempt's 412 even with the same bytes (two backups of the
// same database in the same second must get distinct keys).
TEST_F(S3StoreTest, ConditionalPutWhoseAnswerWasLostIsNotAConflict) {
  for (bool same : {true, false}) {
    std::mutex mu;
    std::string stored;
    Make([&](const RecordedRequest& r) {
      std::lock_guard<std::mutex> lock(mu);
      if (r.method == "HEAD") {
        std::string body = same ? stored : "other bytes";
        return Ok({{"content-length", std::to_string(body.size())},
                   {"etag", "\"" + s3::HexEncode(s3::Md5(body)) + "\""}});
      }
      if (!stored.empty()) return ErrorXml(412, "PreconditionFailed");
      stored = r.body;
      FakeResponse lost;
      lost.error = Status(StatusCode::kIOError, "connection reset", true);
      return lost;
    });
    PutOptions opts;
    opts.if_none_match = true;
    auto put = Put("k", "payload", opts);
    if (same) {
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(put->etag, s3::HexEncode(s3::Md5("payload")));
    } else {
      EXPECT_EQ(put.status().code(), StatusCode::kAlreadyExists);
    }
  }
  Make([](const RecordedRequest& r) {
    if (r.method == "HEAD") {
      return Ok(
          {{"content-length", "7"}, {"etag", "\"" + s3::HexEncode(s3::Md5("payload")) + "\""}});
    }
    return ErrorXml(412, "PreconditionFailed");
  });
  PutOptions opts;
  opts.if_none_match = true;
  EXPECT_EQ(Put("k", "payload", opts).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(S3StoreTest, BodyOfExactlyOnePartIsStillOnePut) {
  Make([](const RecordedRequest&) { return Ok(); });
  ASSERT_TRUE(Put("k", Pattern(5 * kMiB)).ok());
  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].body.size(), 5 * kMiB);
}

TEST_F(S3StoreTest, RejectsBadMetadataBeforeSending) {
  Make([](const RecordedRequest&) { return Ok(); });
  PutOptions opts;
  opts.metadata = {{"Upper", "x"}};
  EXPECT_EQ(Put("k", "x", opts).status().code(), StatusCode::kInvalidArgument);
  opts.metadata = {{"ok", "caf\xc3\xa9"}};
  EXPECT_EQ(Put("k", "x", opts).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(transport_->requests().empty());
}

// ------------------------------------------------------------ multipart

TEST_F(S3StoreTest, LargeBodyIsMultipartWithPartsInOrder) {
  MultipartServer server;
  Make(std::ref(server));
  const std::string data = Pattern(11 * kMiB + 3);
  PutOptions opts;
  opts.metadata = {{"db", "main"}};
  opts.if_none_match = true;
  auto info = Put("big key", data, opts);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->etag, "abc-3");
  EXPECT_EQ(info->size, data.size());

  ASSERT_EQ(server.parts.size(), 3u);
  EXPECT_EQ(server.parts[1] + server.parts[2] + server.parts[3], data);
  EXPECT_EQ(server.parts[1].size(), 5 * kMiB);

  auto reqs = transport_->requests();
  ASSERT_EQ(reqs.size(), 5u);
  const RecordedRequest& create = reqs.front();
  EXPECT_EQ(create.url, "http://127.0.0.1:9000/bkt/big%20key?uploads=");
  EXPECT_EQ(create.Header("x-amz-meta-db"), "main");
  EXPECT_EQ(create.Header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(create.Header("content-type"), "application/octet-stream");
  EXPECT_FALSE(create.Header("if-none-match").has_value());
  for (size_t i = 1; i <= 3; ++i) {
    const RecordedRequest& part = reqs[i];
    EXPECT_EQ(part.method, "PUT");
    EXPECT_NE(part.Query().find("uploadId=UP%2F1%2Bx"), std::string::npos) << part.url;
    // The signed SHA-256 is S3's check of the part; an MD5 would repeat it.
    EXPECT_EQ(part.Header("x-amz-content-sha256"), s3::Sha256Hex(part.body));
    EXPECT_FALSE(part.Header("content-md5").has_value());
    EXPECT_FALSE(part.Header("x-amz-meta-db").has_value());
    EXPECT_FALSE(part.Header("if-none-match").has_value());
  }
  const RecordedRequest& complete = reqs.back();
  EXPECT_EQ(complete.method, "POST");
  EXPECT_EQ(complete.Query(), "uploadId=UP%2F1%2Bx");
  EXPECT_EQ(complete.Header("if-none-match"), "*");
  size_t p1 = complete.body.find("<PartNumber>1</PartNumber>");
  size_t p2 = complete.body.find("<PartNumber>2</PartNumber>");
  size_t p3 = complete.body.find("<PartNumber>3</PartNumber>");
  ASSERT_NE(p3, std::string::npos) << complete.body;
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_NE(complete.body.find("<ETag>&quot;" + s3::HexEncode(s3::Md5(server.parts[2])) +
                               "&quot;</ETag>"),
            std::string::npos)
      << "ETags are XML-escaped: " << complete.body;
}

TEST_F(S3StoreTest, MultipartKeepsAtMostConcurrencyPartsInFlight) {
  MultipartServer server;
  std::atomic<int> in_flight{0}, peak{0};
  server.override_part = [&](const RecordedRequest&) {
    int now = ++in_flight;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --in_flight;
    return FakeResponse{0, {}, "", {}};  // status 0: fall through to the server
  };
  Make(std::ref(server));
  ASSERT_TRUE(Put("k", Pattern(31 * kMiB)).ok());
  EXPECT_EQ(server.parts.size(), 7u);
  EXPECT_LE(peak.load(), 2);
  EXPECT_GE(peak.load(), 1);
}

TEST_F(S3StoreTest, FailedPartAbortsTheUploadAndNamesThePart) {
  MultipartServer server;
  server.override_part = [](const RecordedRequest& r) {
    if (r.Query().find("partNumber=2&") != std::string::npos) return ErrorXml(403, "AccessDenied");
    return FakeResponse{0, {}, "", {}};
  };
  Make(std::ref(server));
  auto info = Put("db/full", Pattern(12 * kMiB));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(info.status().message(),
            "upload part 2 of db/full: access denied for s3:PutObject on arn:aws:s3:::bkt/db/full "
            "(check that the IAM policy of these credentials allows s3:PutObject on that "
            "resource, and S3_BACKUP_BUCKET)");
  auto reqs = transport_->requests();
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().Query(), "uploadId=UP%2F1%2Bx");
  for (const auto& r : reqs) {
    EXPECT_FALSE(r.method == "POST" && r.Query().starts_with("uploadId")) << "no complete";
  }
}

TEST_F(S3StoreTest, ErrorInside200CompleteIsAFailureAndAborts) {
  MultipartServer server;
  server.complete = Xml(200, "<Error><Code>InvalidPart</Code><Message>x</Message></Error>");
  Make(std::ref(server));
  auto info = Put("k", Pattern(11 * kMiB));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << info.status().ToString();
  EXPECT_NE(info.status().message().find("complete multipart upload of k"), std::string::npos);
  EXPECT_EQ(transport_->requests().back().method, "DELETE");
}

TEST_F(S3StoreTest, InternalErrorInside200CompleteIsRetried) {
  MultipartServer server;
  std::atomic<int> completes{0};
  Make([&](const RecordedRequest& r) {
    if (r.method == "POST" && r.Query().starts_with("uploadId") && completes++ == 0) {
      return Xml(200, "<Error><Code>InternalError</Code><Message></Message></Error>");
    }
    return server(r);
  });
  auto info = Put("k", Pattern(11 * kMiB));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(completes.load(), 2);
}

TEST_F(S3StoreTest, CompleteThatSucceededBeforeATimeoutIsNotAFailure) {
  MultipartServer server;
  std::atomic<int> completes{0};
  const std::string data = Pattern(11 * kMiB);
  Make([&](const RecordedRequest& r) {
    if (r.method == "POST" && r.Query().starts_with("uploadId")) {
      if (completes++ == 0) {
        return FakeResponse{0, {}, "", Status(StatusCode::kDeadlineExceeded, "timed out", true)};
      }
      return ErrorXml(404, "NoSuchUpload");
    }
    if (r.method == "HEAD") {
      return Ok({{"content-length", std::to_string(data.size())}, {"etag", "\"f00-3\""}});
    }
    return server(r);
  });
  auto info = Put("k", data);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->etag, "f00-3");
  EXPECT_NE(transport_->requests().back().method, "DELETE") << "no abort";
}

TEST_F(S3StoreTest, DeniedAbortWarnsOnceAboutALifecycleRule) {
  MultipartServer server;
  server.complete = ErrorXml(400, "InvalidPart");
  server.abort = ErrorXml(403, "AccessDenied");
  Make(std::ref(server));
  std::vector<std::string> warnings;
  std::mutex mu;
  log::SetSink([&](log::Level level, std::string_view m) {
    std::lock_guard<std::mutex> lock(mu);
    if (level == log::Level::kWarning) warnings.emplace_back(m);
  });
  EXPECT_FALSE(Put("k", Pattern(11 * kMiB)).ok());
  EXPECT_FALSE(Put("k", Pattern(11 * kMiB)).ok());
  log::SetSink({});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("s3:AbortMultipartUpload"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("lifecycle rule"), std::string::npos) << warnings[0];
}

TEST_F(S3StoreTest, StreamLongerThanMaxPartsFailsCleanlyAndAborts) {
  MultipartServer server;
  Make(std::ref(server));
  s3::MultipartParams params;
  params.part_size = 5 * kMiB;
  params.max_parts = 3;
  StringReader rest(Pattern(11 * kMiB));
  std::atomic<bool> warned{false};
  auto res = s3::UploadMultipart(store_->client(), "k", Pattern(5 * kMiB), Pattern(5 * kMiB), rest,
                                 params, warned);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(res.status().message().find("raise part_size"), std::string::npos);
  EXPECT_EQ(transport_->requests().back().method, "DELETE");
}

// ------------------------------------------------------------ retries

TEST_F(S3StoreTest, Retries503ThenSucceedsSleepingOnTheClock) {
  std::atomic<int> calls{0};
  Make([&](const RecordedRequest&) {
    return calls++ == 0 ? ErrorXml(503, "SlowDown") : Ok({{"etag", "\"e\""}});
  });
  auto start = clock_.Monotonic();
  auto info = Put("k", "x");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_LE(clock_.Monotonic() - start, std::chrono::milliseconds(200));
}

TEST_F(S3StoreTest, DoesNotRetry403) {
  Make([](const RecordedRequest&) { return ErrorXml(403, "AccessDenied"); });
  auto info = Put("k", "x");
  EXPECT_EQ(info.status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(info.status().retryable());
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(S3StoreTest, GivesUpAfterMaxAttemptsWithARetryableError) {
  Make([](const RecordedRequest&) { return ErrorXml(500, "InternalError"); });
  auto info = Put("k", "x");
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(info.status().retryable());
  EXPECT_EQ(transport_->requests().size(), 5u);
}

TEST_F(S3StoreTest, RetriesAPartNotTheUpload) {
  MultipartServer server;
  std::atomic<int> part2_calls{0};
  server.override_part = [&](const RecordedRequest& r) {
    if (r.Query().find("partNumber=2&") != std::string::npos && part2_calls++ == 0) {
      return FakeResponse{0, {}, "", Status(StatusCode::kIOError, "connection reset", true)};
    }
    return FakeResponse{0, {}, "", {}};
  };
  Make(std::ref(server));
  ASSERT_TRUE(Put("k", Pattern(11 * kMiB)).ok());
  EXPECT_EQ(part2_calls.load(), 2);
  int creates = 0;
  for (const auto& r : transport_->requests()) creates += r.Query() == "uploads=";
  EXPECT_EQ(creates, 1);
}

TEST_F(S3StoreTest, ConnectionRefusedNamesTheSettingToCheck) {
  Make([](const RecordedRequest&) {
    return FakeResponse{
        0,
        {},
        "",
        Status(StatusCode::kUnavailable, "cannot connect to http://127.0.0.1:9000: refused", true)};
  });
  Status s = store_->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "cannot connect to http://127.0.0.1:9000: refused (check S3_ENDPOINT_URL and that the "
            "server is running)");
  EXPECT_EQ(transport_->requests().size(), 5u);
}

// ------------------------------------------------------------ reads

TEST_F(S3StoreTest, GetStreamsAndSendsRange) {
  Make([](const RecordedRequest&) {
    return FakeResponse{206, {{"content-length", "4"}}, "data", {}};
  });
  auto r = store_->Get("k", ByteRange{10, 4});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*ReadAll(**r), "data");
  EXPECT_EQ(transport_->requests()[0].Header("range"), "bytes=10-13");
  ASSERT_TRUE(store_->Get("k", ByteRange{7, std::nullopt}).ok());
  EXPECT_EQ(transport_->requests()[1].Header("range"), "bytes=7-");
}

TEST_F(S3StoreTest, GetShorterThanContentLengthIsTruncated) {
  Make([](const RecordedRequest&) {
    return FakeResponse{200, {{"content-length", "10"}}, "short", {}};
  });
  auto r = store_->Get("k");
  ASSERT_TRUE(r.ok());
  auto all = ReadAll(**r);
  EXPECT_EQ(all.status().code(), StatusCode::kIOError);
  EXPECT_NE(all.status().message().find("truncated"), std::string::npos);
}

TEST_F(S3StoreTest, GetCutShortResumesWithAPinnedRange) {
  Make([](const RecordedRequest& r) {
    if (!r.Header("range")) {
      return FakeResponse{200, {{"content-length", "10"}, {"etag", "\"e1\""}}, "01234", {}};
    }
    if (r.Header("if-match") != "\"e1\"") return ErrorXml(412, "PreconditionFailed");
    if (r.Header("range") == "bytes=5-9") {
      return FakeResponse{206, {{"content-length", "5"}, {"etag", "\"e1\""}}, "567", {}};
    }
    EXPECT_EQ(r.Header("range"), "bytes=8-9");
    return FakeResponse{206, {{"content-length", "2"}, {"etag", "\"e1\""}}, "89", {}};
  });
  auto r = store_->Get("k");
  ASSERT_TRUE(r.ok());
  auto all = ReadAll(**r);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, "0123456789");
  EXPECT_EQ(transport_->requests().size(), 3u);
}

TEST_F(S3StoreTest, GetResumeOfAReplacedObjectFails) {
  Make([](const RecordedRequest& r) {
    if (!r.Header("range")) {
      return FakeResponse{200, {{"content-length", "10"}, {"etag", "\"e1\""}}, "01234", {}};
    }
    return ErrorXml(412, "PreconditionFailed");
  });
  auto r = store_->Get("k");
  ASSERT_TRUE(r.ok());
  auto all = ReadAll(**r);
  EXPECT_EQ(all.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(all.status().message().find("replaced"), std::string::npos);
}

TEST_F(S3StoreTest, GetMissingKeyIsNotFound) {
  Make([](const RecordedRequest&) { return ErrorXml(404, "NoSuchKey"); });
  auto r = store_->Get("a/b");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "object not found: a/b");
}

TEST_F(S3StoreTest, HeadReadsSizeEtagDateAndMetadata) {
  Make([](const RecordedRequest&) {
    return Ok({{"content-length", "42"},
               {"etag", "\"abc\""},
               {"last-modified", "Wed, 12 Oct 2009 17:50:00 GMT"},
               {"x-amz-meta-db", "main"},
               {"x-amz-meta-format-version", "1"},
               {"x-amz-request-id", "r"}});
  });
  auto info = store_->Head("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 42u);
  EXPECT_EQ(info->etag, "abc");
  EXPECT_EQ(info->last_modified_unix, 1255369800);
  EXPECT_EQ(info->metadata, (Metadata{{"db", "main"}, {"format-version", "1"}}));
  EXPECT_EQ(transport_->requests()[0].method, "HEAD");
}

TEST_F(S3StoreTest, HeadMissingWithoutBodyIsNotFound) {
  Make([](const RecordedRequest&) { return FakeResponse{404, {}, "", {}}; });
  EXPECT_EQ(store_->Head("k").status().code(), StatusCode::kNotFound);
}

TEST_F(S3StoreTest, ListSendsV2QueryAndParsesPage) {
  Make([](const RecordedRequest&) {
    return Xml(200,
               "<ListBucketResult><IsTruncated>true</IsTruncated>"
               "<Contents><Key>p/a</Key><Size>3</Size><ETag>\"e1\"</ETag>"
               "<LastModified>2009-10-12T17:50:30.000Z</LastModified></Contents>"
               "<NextContinuationToken>tok/2+</NextContinuationToken></ListBucketResult>");
  });
  s3::S3Options o = Options();
  auto page = store_->List("p/", "tok/1");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "p/a");
  EXPECT_EQ(page->objects[0].size, 3u);
  EXPECT_EQ(page->objects[0].etag, "e1");
  EXPECT_EQ(page->objects[0].last_modified_unix, 1255369830);
  EXPECT_EQ(page->next_page_token, "tok/2+");
  EXPECT_EQ(transport_->requests()[0].url,
            "http://127.0.0.1:9000/bkt?continuation-token=tok%2F1&list-type=2&max-keys=1000&"
            "prefix=p%2F");
}

TEST_F(S3StoreTest, DeleteOfMissingKeyIsOkButMissingBucketIsNot) {
  Make([](const RecordedRequest&) { return ErrorXml(404, "NoSuchKey"); });
  EXPECT_TRUE(store_->Delete("k").ok());
  Make([](const RecordedRequest&) { return FakeResponse{204, {}, "", {}}; });
  EXPECT_TRUE(store_->Delete("k").ok());
  Make([](const RecordedRequest&) { return ErrorXml(404, "NoSuchBucket"); });
  Status s = store_->Delete("k");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "bucket 'bkt' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
}

// ------------------------------------------------------------ CheckReady

TEST_F(S3StoreTest, CheckReadyMissingBucket) {
  Make([](const RecordedRequest&) { return FakeResponse{404, {}, "", {}}; });
  Status s = store_->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "bucket 'bkt' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
}

TEST_F(S3StoreTest, CheckReadyDeniedNamesListBucket) {
  Make([](const RecordedRequest& r) {
    return r.method == "HEAD" ? FakeResponse{403, {}, "", {}} : ErrorXml(403, "AccessDenied");
  });
  Status s = store_->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(s.message().starts_with("access denied for s3:ListBucket on arn:aws:s3:::bkt (check"))
      << s.message();
}

TEST_F(S3StoreTest, CheckReadyWrongSecretNamesTheVariable) {
  Make([](const RecordedRequest& r) {
    return r.method == "HEAD" ? FakeResponse{403, {}, "", {}}
                              : ErrorXml(403, "SignatureDoesNotMatch");
  });
  Status s = store_->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("check AWS_SECRET_ACCESS_KEY"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kSecret), std::string::npos);
}

TEST_F(S3StoreTest, CheckReadyWrongRegionNamesTheBucketRegion) {
  Make([](const RecordedRequest&) {
    return FakeResponse{301, {{"x-amz-bucket-region", "eu-west-1"}}, "", {}};
  });
  Status s = store_->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "bucket 'bkt' is in region eu-west-1 (x-amz-bucket-region), not us-east-1; set the "
            "region to eu-west-1");
}

// ------------------------------------------------------------ config

TEST_F(S3StoreTest, AddressingStyle) {
  auto url_for = [&](s3::S3Options o) {
    Make(o, [](const RecordedRequest&) { return Ok(); });
    EXPECT_TRUE(store_->Head("a b").ok());
    return transport_->requests()[0].url;
  };
  s3::S3Options o = Options();
  o.endpoint = "";
  EXPECT_EQ(url_for(o), "https://bkt.s3.us-east-1.amazonaws.com/a%20b");
  o.endpoint = "https://minio.example.com:9000";
  EXPECT_EQ(url_for(o), "https://bkt.minio.example.com:9000/a%20b");
  o.endpoint = "http://localhost:9000";
  EXPECT_EQ(url_for(o), "http://localhost:9000/bkt/a%20b");
  o.endpoint = "https://minio.example.com";
  o.force_path_style = true;
  EXPECT_EQ(url_for(o), "https://minio.example.com/bkt/a%20b");
}

TEST_F(S3StoreTest, InvalidOptionsFailEveryCall) {
  s3::S3Options o = Options();
  o.allow_http = false;
  EXPECT_EQ(s3::ValidateS3Options(o).code(), StatusCode::kInvalidArgument);
  Make(o, [](const RecordedRequest&) { return Ok(); });
  EXPECT_EQ(store_->CheckReady().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Put("k", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(transport_->requests().empty());

  o = Options();
  o.part_size = kMiB;
  EXPECT_EQ(s3::ValidateS3Options(o).code(), StatusCode::kInvalidArgument);
  o = Options();
  o.secret_access_key = "";
  EXPECT_EQ(s3::ValidateS3Options(o).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewS3ObjectStore(o, clock_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, SessionTokenIsSentAndSigned) {
  s3::S3Options o = Options();
  o.session_token = "TOKEN";
  Make(o, [](const RecordedRequest&) { return Ok(); });
  ASSERT_TRUE(store_->Head("k").ok());
  auto r = transport_->requests()[0];
  EXPECT_EQ(r.Header("x-amz-security-token"), "TOKEN");
  EXPECT_NE(r.Header("authorization")->find("x-amz-security-token"), std::string::npos);
}

}  // namespace
}  // namespace dbbackup::store

namespace dbbackup::store {
namespace {

TEST(PartSizeForTest, KeepsTheConfiguredSizeUntil10000PartsAreNotEnough) {
  constexpr size_t kMiB = s3::kMiB;
  EXPECT_EQ(PartSizeFor(8 * kMiB, std::nullopt), 8 * kMiB);
  EXPECT_EQ(PartSizeFor(8 * kMiB, 100 * kMiB), 8 * kMiB);
  EXPECT_EQ(PartSizeFor(8 * kMiB, uint64_t{80000} * kMiB), 8 * kMiB);
  // 1 TiB needs parts of at least 105 MiB (1 TiB / 10000, rounded up to MiB).
  const uint64_t tib = uint64_t{1} << 40;
  size_t p = PartSizeFor(8 * kMiB, tib);
  EXPECT_EQ(p, 105 * kMiB);
  EXPECT_LE((tib + p - 1) / p, 10000u);
  // 5 TiB, S3's largest object, still fits.
  p = PartSizeFor(8 * kMiB, 5 * tib);
  EXPECT_LE((5 * tib + p - 1) / p, 10000u);
  EXPECT_LE(p, s3::kMaxPartSize);
}

}  // namespace
}  // namespace dbbackup::store
