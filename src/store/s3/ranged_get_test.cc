// Parallel ranged GETs behind S3ObjectStore::Get, over FakeTransport: the
// bytes come back whole and in order, every range is pinned to the ETag, a
// failed range is retried on its own, an overwrite mid-download fails, and
// no more than get_concurrency part buffers are ever alive.
#include "store/s3/ranged_get.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "store/s3/fake_transport.h"
#include "store/s3/s3_store.h"

namespace dbbackup::store {
namespace {

using s3::FakeResponse;
using s3::FakeTransport;
using s3::RecordedRequest;

constexpr size_t kPart = 64 * 1024;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
  return s;
}

// An S3 server holding one object; answers plain and ranged GETs, checks
// If-Match. `fail` may replace an answer (return status 0 to go on).
struct ObjectServer {
  std::string data;
  std::string etag = "abc123";
  std::function<FakeResponse(const RecordedRequest&)> fail;

  FakeResponse operator()(const RecordedRequest& r) {
    if (fail) {
      FakeResponse f = fail(r);
      if (f.status != 0 || !f.error.ok()) return f;
    }
    if (auto m = r.Header("if-match"); m && *m != "\"" + etag + "\"") {
      return FakeResponse{412, {}, "<Error><Code>PreconditionFailed</Code></Error>", {}};
    }
    s3::HeaderList h = {{"etag", "\"" + etag + "\""}};
    auto range = r.Header("range");
    if (!range) {
      h.emplace_back("content-length", std::to_string(data.size()));
      return FakeResponse{200, h, data, {}};
    }
    // bytes=A-B
    size_t dash = range->find('-');
    uint64_t a = std::stoull(range->substr(6, dash - 6));
    uint64_t b = std::stoull(range->substr(dash + 1));
    std::string body = data.substr(a, b - a + 1);
    h.emplace_back("content-length", std::to_string(body.size()));
    return FakeResponse{206, h, body, {}};
  }
};

class RangedGetTest : public ::testing::Test {
 protected:
  S3ObjectStore& Make(std::function<FakeResponse(const RecordedRequest&)> handler,
                      int concurrency = 3) {
    s3::S3Options o = s3::FakeS3Options();
    o.ranged_get_threshold = 2 * kPart;
    o.get_part_size = kPart;
    o.get_concurrency = concurrency;
    auto t = std::make_unique<FakeTransport>(std::move(handler));
    transport_ = t.get();
    store_ = std::make_unique<S3ObjectStore>(std::move(o), clock_, std::move(t));
    return *store_;
  }

  // Get(key) of the whole object reads back exactly `data`.
  void ExpectWholeObject(const std::string& key, const std::string& data) {
    auto reader = store_->Get(key);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto all = ReadAll(**reader);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_TRUE(*all == data) << "the object read back differs";
  }

  std::vector<std::string> Ranges() {
    std::vector<std::string> out;
    for (const RecordedRequest& r : transport_->requests()) {
      if (auto range = r.Header("range")) out.push_back(*range);
    }
    return out;
  }

  env::FakeClock clock_{std::chrono::system_clock::from_time_t(1700000000)};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(RangedGetTest, LargeObjectComesBackWholeFromPinnedRanges) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(10 * kPart + 123);
  Make([server](const RecordedRequest& r) { return (*server)(r); });
  ExpectWholeObject("big", server->data);

  // Part 0 came from the plain GET; parts 1..10 by range, each If-Match.
  std::set<std::string> ranges;
  for (const std::string& r : Ranges()) ranges.insert(r);
  EXPECT_EQ(ranges.size(), 10u);
  EXPECT_TRUE(ranges.count("bytes=65536-131071"));
  EXPECT_TRUE(ranges.count("bytes=655360-655482"));  // the short last part
  for (const RecordedRequest& r : transport_->requests()) {
    if (r.Header("range")) {
      EXPECT_EQ(r.Header("if-match"), "\"abc123\"");
    }
  }
  EXPECT_LE(store_->ranged_get_buffers_peak(), 3u);
  EXPECT_GE(store_->ranged_get_buffers_peak(), 1u);
}

TEST_F(RangedGetTest, SmallObjectIsOnePlainGet) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(2 * kPart);  // at the threshold, not above
  Make([server](const RecordedRequest& r) { return (*server)(r); });
  auto reader = store_->Get("small");
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(*ReadAll(**reader) == server->data);
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_TRUE(Ranges().empty());
}

TEST_F(RangedGetTest, RequestedRangeIsNeverSplit) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(10 * kPart);
  Make([server](const RecordedRequest& r) { return (*server)(r); });
  auto reader = store_->Get("big", ByteRange{kPart, 5 * kPart});
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(*ReadAll(**reader) == server->data.substr(kPart, 5 * kPart));
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(RangedGetTest, FailedRangesAreRetriedOnTheirOwn) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(6 * kPart);
  std::mutex mu;
  std::set<std::string> failed;
  server->fail = [&](const RecordedRequest& r) {
    auto range = r.Header("range");
    if (!range) return FakeResponse{0, {}, "", {}};
    std::lock_guard<std::mutex> lock(mu);
    if (!failed.insert(*range).second) return FakeResponse{0, {}, "", {}};
    if (*range == "bytes=131072-196607") {
      // A cut connection: fewer bytes than asked for.
      return FakeResponse{206, {{"content-length", "10"}}, "0123456789", {}};
    }
    if (*range == "bytes=262144-327679") {
      FakeResponse e;
      e.error = Status(StatusCode::kIOError, "connection reset", true);
      return e;
    }
    return FakeResponse{503, {}, "<Error><Code>SlowDown</Code></Error>", {}};
  };
  Make([server](const RecordedRequest& r) { return (*server)(r); });
  ExpectWholeObject("big", server->data);
  // 5 ranges, each failed once and retried once; one plain GET.
  EXPECT_EQ(Ranges().size(), 10u);
  EXPECT_EQ(transport_->requests().size(), 11u);
}

TEST_F(RangedGetTest, FirstStreamCutShortIsFetchedByRange) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(4 * kPart);
  server->fail = [&](const RecordedRequest& r) {
    if (r.Header("range")) return FakeResponse{0, {}, "", {}};
    // Headers promise the whole object; the body stops after 100 bytes.
    return FakeResponse{
        200,
        {{"etag", "\"abc123\""}, {"content-length", std::to_string(server->data.size())}},
        server->data.substr(0, 100),
        {}};
  };
  Make([server](const RecordedRequest& r) { return (*server)(r); });
  ExpectWholeObject("big", server->data);
  std::vector<std::string> ranges = Ranges();
  EXPECT_NE(std::find(ranges.begin(), ranges.end(), "bytes=0-65535"), ranges.end());
}

TEST_F(RangedGetTest, OverwriteMidDownloadFailsInsteadOfMixingVersions) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(8 * kPart);
  Make([server](const RecordedRequest& r) {
    FakeResponse res = (*server)(r);
    if (!r.Header("range")) server->etag = "new-version";  // replaced right after
    return res;
  });
  auto reader = store_->Get("big");
  ASSERT_TRUE(reader.ok());
  auto all = ReadAll(**reader);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(all.status().message().find("replaced while it was being downloaded"),
            std::string::npos)
      << all.status().message();
}

TEST_F(RangedGetTest, SlowReaderKeepsAtMostConcurrencyBuffers) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(40 * kPart);
  Make([server](const RecordedRequest& r) { return (*server)(r); }, 4);
  auto reader = store_->Get("big");
  ASSERT_TRUE(reader.ok());
  std::string got;
  char buf[4096];
  for (;;) {
    auto n = (*reader)->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_TRUE(got == server->data);
  EXPECT_LE(store_->ranged_get_buffers_peak(), 4u);
}

TEST_F(RangedGetTest, DroppingTheReaderEarlyStopsTheWorkers) {
  auto server = std::make_shared<ObjectServer>();
  server->data = Pattern(50 * kPart);
  Make([server](const RecordedRequest& r) { return (*server)(r); }, 2);
  {
    auto reader = store_->Get("big");
    ASSERT_TRUE(reader.ok());
    char buf[100];
    ASSERT_TRUE((*reader)->Read(buf, sizeof(buf)).ok());
  }
  // The window never let the workers run ahead: far fewer than 50 requests.
  EXPECT_LE(transport_->requests().size(), 1u + 3u);
}

}  // namespace
}  // namespace dbbackup::store
