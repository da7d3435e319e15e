// S3ObjectStore against real S3 servers on loopback: Ceph RGW and moto.
//
// The harness exports, per server, DBB_TEST_<RGW|MOTO>_{ENDPOINT,ACCESS_KEY,
// SECRET_KEY} (credentials that may create buckets; region us-east-1). A
// server whose variables are absent is skipped, unless DBB_REQUIRE_S3=1, which
// turns the skip into a failure. Each test uses a bucket of its own.
//
// moto 5.2.1 with IAM enforced (as the harness runs it) rejects correctly
// signed requests whose query holds a '/' (ListObjectsV2 prefix=a/b/) or
// whose key holds anything but [A-Za-z0-9-_.~/ ] (non-ASCII, '+', '=', '%',
// '?', '&', '*', '(', ',', ';', ':', '@', ...); the aws CLI fails the same
// way. On moto these tests therefore list with '/'-free prefixes and use only
// the plain keys.
// The signer is never bent for it: RGW (and AWS) check the real thing.
#include "store/s3/s3_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>

#include "common/io.h"
#include "env/clock.h"
#include "store/object_store.h"
#include "store/s3/crypto.h"

namespace dbbackup::store {
namespace {

struct Server {
  std::string endpoint;
  std::string access_key;
  std::string secret_key;
};

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

std::optional<Server> ServerFromEnv(const std::string& name) {
  Server s{Env("DBB_TEST_" + name + "_ENDPOINT"), Env("DBB_TEST_" + name + "_ACCESS_KEY"),
           Env("DBB_TEST_" + name + "_SECRET_KEY")};
  if (s.endpoint.empty() || s.access_key.empty() || s.secret_key.empty()) return std::nullopt;
  return s;
}

std::string UniqueBucket() {
  static std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string b = "dbb-it-";
  for (int i = 0; i < 16; ++i) b.push_back(kHex[rng() % 16]);
  return b;
}

// Deterministic, non-repeating bytes so misplaced parts are caught.
std::string Pattern(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

class S3StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::optional<Server> server = ServerFromEnv(GetParam());
    if (!server) {
      std::string msg = "DBB_TEST_" + GetParam() +
                        "_{ENDPOINT,ACCESS_KEY,SECRET_KEY} not set; start the S3 servers "
                        "with the test harness";
      if (Env("DBB_REQUIRE_S3") == "1") FAIL() << msg << " (DBB_REQUIRE_S3=1)";
      GTEST_SKIP() << msg;
    }
    server_ = *server;
    bucket_ = UniqueBucket();
    store_ = MakeStore(BaseOptions());
    ASSERT_TRUE(store_->client().CreateBucket().ok());
  }

  void TearDown() override {
    if (store_) {
      Status s = store_->client().DeleteBucketAndContents();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }

  s3::S3Options BaseOptions() const {
    s3::S3Options o;
    o.endpoint = server_.endpoint;
    o.allow_http = true;
    o.region = "us-east-1";
    o.bucket = bucket_;
    o.access_key_id = server_.access_key;
    o.secret_access_key = server_.secret_key;
    o.part_size = s3::kMinPartSize;
    o.max_attempts = 3;
    o.retry_base_delay = std::chrono::milliseconds(50);
    return o;
  }

  std::unique_ptr<S3ObjectStore> MakeStore(s3::S3Options o) {
    auto store = NewS3ObjectStore(std::move(o), clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  Result<ObjectInfo> PutString(ObjectStore& store, const std::string& key, std::string data,
                               PutOptions opts = {}) {
    StringReader r(std::move(data));
    return store.Put(key, r, opts);
  }

  Result<std::string> GetString(ObjectStore& store, const std::string& key,
                                std::optional<ByteRange> range = std::nullopt) {
    DBB_ASSIGN_OR_RETURN(std::unique_ptr<Reader> r, store.Get(key, range));
    return ReadAll(*r);
  }

  // See the note at the top of the file.
  bool IsMotoWithIam() const { return GetParam() == "MOTO"; }
  std::string ListPrefix() const { return IsMotoWithIam() ? "backups-full-" : "backups/full/"; }

  env::SystemClock clock_;
  Server server_;
  std::string bucket_;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_P(S3StoreTest, CheckReady) { EXPECT_TRUE(store_->CheckReady().ok()); }

TEST_P(S3StoreTest, PutGetHeadListDelete) {
  const std::string data = "hello, s3";
  auto put = PutString(*store_, "backups/db1/a.bin", data);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, data.size());
  EXPECT_EQ(put->etag, s3::HexEncode(s3::Md5(data)));

  auto got = GetString(*store_, "backups/db1/a.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data);

  auto head = store_->Head("backups/db1/a.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_GT(head->last_modified_unix, 1600000000);

  auto list = store_->List(IsMotoWithIam() ? "backups" : "backups/", "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->objects.size(), 1u);
  EXPECT_EQ(list->objects[0].key, "backups/db1/a.bin");
  EXPECT_EQ(list->objects[0].size, data.size());
  EXPECT_EQ(list->objects[0].etag, put->etag);
  EXPECT_TRUE(list->next_page_token.empty());

  ASSERT_TRUE(store_->Delete("backups/db1/a.bin").ok());
  EXPECT_EQ(store_->Head("backups/db1/a.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("backups/db1/a.bin").ok()) << "deleting a missing key is OK";
}

TEST_P(S3StoreTest, EmptyObject) {
  ASSERT_TRUE(PutString(*store_, "empty", "").ok());
  auto got = GetString(*store_, "empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
  EXPECT_EQ(store_->Head("empty")->size, 0u);
}

TEST_P(S3StoreTest, MetadataRoundTrip) {
  PutOptions opts;
  opts.metadata = {{"db-name", "main"}, {"format", "v1"}, {"sha256", std::string(64, 'a')}};
  opts.content_type = "application/zstd";
  auto put = PutString(*store_, "meta", "x", opts);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->metadata, opts.metadata);
  auto head = store_->Head("meta");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->metadata, opts.metadata);
}

TEST_P(S3StoreTest, MultipartUploadAndRangedGet) {
  const std::string data = Pattern(20 * s3::kMiB + 12345, 7);
  PutOptions opts;
  opts.metadata = {{"kind", "multipart"}};
  auto put = PutString(*store_, "big/object.bin", data, opts);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, data.size());
  EXPECT_TRUE(put->etag.ends_with("-5")) << put->etag;

  auto head = store_->Head("big/object.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->metadata.at("kind"), "multipart");

  auto got = GetString(*store_, "big/object.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), data.size());
  EXPECT_TRUE(*got == data) << "content differs";

  auto range = GetString(*store_, "big/object.bin", ByteRange{5 * s3::kMiB - 10, 20});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, data.substr(5 * s3::kMiB - 10, 20));
  auto tail = GetString(*store_, "big/object.bin", ByteRange{data.size() - 5, std::nullopt});
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, data.substr(data.size() - 5));
}

TEST_P(S3StoreTest, ExactlyOnePartIsASinglePut) {
  const std::string data = Pattern(s3::kMinPartSize, 3);
  auto put = PutString(*store_, "one-part", data);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, s3::HexEncode(s3::Md5(data)));
}

TEST_P(S3StoreTest, AwkwardKeysRoundTrip) {
  const std::vector<std::string> all_keys = {
      "dir/with space/file name.txt", "unicode/ключ/日本語-é", "plus+equals=tilde~",
      "dots.../x..y/.hidden",         "percent%2Fliteral",     "q?uery&amp;#frag",
      "star*paren(1)!'quote'",        "comma,semi;colon:at@"};
  std::vector<std::string> keys;
  for (const auto& key : all_keys) {
    bool plain = key.find_first_not_of(
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.~/ ") == std::string::npos;
    if (plain || !IsMotoWithIam()) keys.push_back(key);
  }
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    auto put = PutString(*store_, key, "v:" + key);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    auto got = GetString(*store_, key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, "v:" + key);
    EXPECT_TRUE(store_->Head(key).ok());
  }
  auto all = ListAll(*store_, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> listed, expected = keys;
  for (const auto& o : *all) listed.push_back(o.key);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
  for (const auto& key : keys) EXPECT_TRUE(store_->Delete(key).ok()) << key;
  EXPECT_TRUE(ListAll(*store_, "")->empty());
}

TEST_P(S3StoreTest, ListPaginates) {
  s3::S3Options o = BaseOptions();
  o.max_keys = 2;
  auto store = MakeStore(o);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(PutString(*store, ListPrefix() + std::to_string(i), "x").ok());
  }
  ASSERT_TRUE(PutString(*store, "backups-other", "x").ok());
  auto first = store->List(ListPrefix(), "");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects.size(), 2u);
  EXPECT_FALSE(first->next_page_token.empty());
  auto all = ListAll(*store, ListPrefix());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*all)[i].key, ListPrefix() + std::to_string(i));
}

TEST_P(S3StoreTest, MissingObjectIsNotFound) {
  auto get = store_->Get("no/such/key");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(get.status().message(), "object not found: no/such/key");
  EXPECT_EQ(store_->Head("no/such/key").status().code(), StatusCode::kNotFound);
}

TEST_P(S3StoreTest, MissingBucketIsNamed) {
  s3::S3Options o = BaseOptions();
  o.bucket = UniqueBucket();
  auto store = MakeStore(o);
  Status ready = store->CheckReady();
  EXPECT_EQ(ready.code(), StatusCode::kNotFound);
  EXPECT_EQ(ready.message(),
            "bucket '" + o.bucket +
                "' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
  auto put = PutString(*store, "k", "v");
  EXPECT_EQ(put.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(put.status().message(),
            "bucket '" + o.bucket +
                "' does not exist (check S3_BACKUP_BUCKET, AWS_REGION and S3_ENDPOINT_URL)");
}

TEST_P(S3StoreTest, WrongSecretIsNamed) {
  s3::S3Options o = BaseOptions();
  o.secret_access_key = "definitely-not-the-secret";
  auto store = MakeStore(o);
  Status ready = store->CheckReady();
  EXPECT_EQ(ready.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(ready.message().find("check AWS_SECRET_ACCESS_KEY"), std::string::npos)
      << ready.message();
  auto put = PutString(*store, "k", "v");
  EXPECT_EQ(put.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(put.status().message().find("check AWS_SECRET_ACCESS_KEY"), std::string::npos)
      << put.status().message();
  EXPECT_EQ(put.status().message().find(o.secret_access_key), std::string::npos);
}

TEST_P(S3StoreTest, UnknownAccessKeyIsNamed) {
  s3::S3Options o = BaseOptions();
  o.access_key_id = "AKIDNOSUCHKEY0000000";
  auto store = MakeStore(o);
  auto put = PutString(*store, "k", "v");
  EXPECT_EQ(put.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(put.status().message().find("check AWS_ACCESS_KEY_ID"), std::string::npos)
      << put.status().message();
}

TEST_P(S3StoreTest, IfNoneMatchRefusesOverwrite) {
  PutOptions opts;
  opts.if_none_match = true;
  ASSERT_TRUE(PutString(*store_, "once", "1", opts).ok());
  auto again = PutString(*store_, "once", "2", opts);
  if (again.ok()) GTEST_SKIP() << "server ignores If-None-Match (allowed: best effort)";
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_EQ(*GetString(*store_, "once"), "1");
}

INSTANTIATE_TEST_SUITE_P(Servers, S3StoreTest, ::testing::Values("RGW", "MOTO"),
                         [](const auto& info) { return info.param; });

TEST(S3StoreNoServer, ConnectionRefusedNamesTheEndpoint) {
  env::SystemClock clock;
  s3::S3Options o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.allow_http = true;
  o.bucket = "some-bucket";
  o.access_key_id = "AKID";
  o.secret_access_key = "SECRET";
  o.max_attempts = 1;
  auto store = NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok());
  Status s = (*store)->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cannot connect to http://127.0.0.1:1"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("(check S3_ENDPOINT_URL and that the server is running)"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace dbbackup::store
