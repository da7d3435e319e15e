#include "store/faulty_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "store/mem_store.h"

namespace dbbackup::store {
namespace {

// Counts what the base store pulled from the body.
class CountedBody : public Reader {
 public:
  explicit CountedBody(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(void* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  size_t consumed() const { return pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class FaultyStoreTest : public ::testing::Test {
 protected:
  Result<ObjectInfo> Put(const std::string& key, std::string data = "data") {
    StringReader r(std::move(data));
    return store_.Put(key, r, {});
  }

  MemObjectStore mem_;
  FaultyObjectStore store_{&mem_};
};

TEST_F(FaultyStoreTest, PassesThroughWithoutFaults) {
  ASSERT_TRUE(store_.CheckReady().ok());
  ASSERT_TRUE(Put("k", "v").ok());
  EXPECT_EQ(*ReadAll(**store_.Get("k")), "v");
  EXPECT_EQ(store_.Head("k")->size, 1u);
  EXPECT_EQ(store_.List("", "")->objects.size(), 1u);
  EXPECT_TRUE(store_.Delete("k").ok());
  EXPECT_EQ(store_.injected_count(), 0u);
  EXPECT_EQ(store_.Describe(), "faulty(" + mem_.Describe() + ")");
}

TEST_F(FaultyStoreTest, FailsTheNthPutBeforeTheBody) {
  PutFault f;
  f.nth = 3;
  store_.SetPutFault(f);
  EXPECT_TRUE(Put("a").ok());
  EXPECT_TRUE(Put("b").ok());
  CountedBody body("never read");
  auto r = store_.Put("c", body, {});
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_EQ(body.consumed(), 0u);
  EXPECT_EQ(mem_.call_counts().put, 2u);  // the base never saw it
  EXPECT_TRUE(Put("d").ok());             // not sticky
  EXPECT_EQ(store_.injected_count(), 1u);
  EXPECT_EQ(mem_.Keys(), (std::vector<std::string>{"a", "b", "d"}));
}

TEST_F(FaultyStoreTest, FailsMidBodySoTheBaseStoreCleansUp) {
  ASSERT_TRUE(Put("k", "previous").ok());
  PutFault f;
  f.point = PutFault::Point::kMidBody;
  f.after_bytes = 1000;
  f.error = Status::Unavailable("connection reset");
  store_.SetPutFault(f);
  CountedBody body(std::string(5000, 'x'));
  auto r = store_.Put("k", body, {});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(body.consumed(), 1000u);  // partially consumed, as a real upload
  EXPECT_EQ(mem_.Contents("k"), "previous");
}

TEST_F(FaultyStoreTest, MidBodyFaultFiresEvenWhenTheBodyIsShorter) {
  PutFault f;
  f.point = PutFault::Point::kMidBody;
  f.after_bytes = 1 << 20;
  store_.SetPutFault(f);
  EXPECT_FALSE(Put("short", "tiny").ok());
  EXPECT_EQ(mem_.object_count(), 0u);
}

TEST_F(FaultyStoreTest, AfterCommitStoresButReportsFailure) {
  PutFault f;
  f.point = PutFault::Point::kAfterCommit;
  store_.SetPutFault(f);
  EXPECT_FALSE(Put("k", "stored anyway").ok());
  EXPECT_EQ(mem_.Contents("k"), "stored anyway");
}

TEST_F(FaultyStoreTest, StickyFaultAndKeyPrefix) {
  PutFault f;
  f.nth = 2;
  f.sticky = true;
  f.key_prefix = "data/";
  store_.SetPutFault(f);
  EXPECT_TRUE(Put("data/1").ok());
  EXPECT_TRUE(Put("meta/1").ok());  // does not match, not counted
  EXPECT_FALSE(Put("data/2").ok());
  EXPECT_FALSE(Put("data/3").ok());
  EXPECT_TRUE(Put("meta/2").ok());
  store_.ClearFaults();
  EXPECT_TRUE(Put("data/4").ok());
  EXPECT_EQ(store_.injected_count(), 2u);
}

TEST_F(FaultyStoreTest, GetReaderFailsAfterKBytes) {
  ASSERT_TRUE(Put("k", "0123456789").ok());
  GetFault f;
  f.after_bytes = 4;
  store_.SetGetFault(f);
  auto r = store_.Get("k");
  ASSERT_TRUE(r.ok());
  char buf[16];
  auto n = ReadFull(**r, buf, sizeof(buf));
  EXPECT_EQ(n.status().code(), StatusCode::kIOError);
  // Unlimited until cleared.
  EXPECT_FALSE(ReadAll(**store_.Get("k")).ok());
  store_.ClearFaults();
  EXPECT_EQ(*ReadAll(**store_.Get("k")), "0123456789");
}

TEST_F(FaultyStoreTest, GetReaderTruncatesSilently) {
  ASSERT_TRUE(Put("k", "0123456789").ok());
  GetFault f;
  f.mode = GetFault::Mode::kTruncateAfter;
  f.after_bytes = 6;
  f.times = 1;
  store_.SetGetFault(f);
  EXPECT_EQ(*ReadAll(**store_.Get("k")), "012345");
  EXPECT_EQ(*ReadAll(**store_.Get("k")), "0123456789");  // times = 1
}

TEST_F(FaultyStoreTest, GetFailOpenForMatchingKeysOnly) {
  ASSERT_TRUE(Put("a/k").ok());
  ASSERT_TRUE(Put("b/k").ok());
  GetFault f;
  f.mode = GetFault::Mode::kFailOpen;
  f.key_prefix = "a/";
  f.error = Status::PermissionDenied("no");
  store_.SetGetFault(f);
  EXPECT_EQ(store_.Get("a/k").status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_.Get("b/k").ok());
  // A range passes through to the base.
  auto r = store_.Get("b/k", ByteRange{.offset = 1, .length = 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*ReadAll(**r), "at");
}

TEST_F(FaultyStoreTest, FailsDeleteForGivenKeys) {
  ASSERT_TRUE(Put("x").ok());
  ASSERT_TRUE(Put("y").ok());
  store_.FailDelete("x");
  EXPECT_EQ(store_.Delete("x").code(), StatusCode::kIOError);
  EXPECT_TRUE(store_.Delete("y").ok());
  EXPECT_EQ(mem_.Keys(), std::vector<std::string>{"x"});
  store_.ClearFaults();
  EXPECT_TRUE(store_.Delete("x").ok());
}

TEST_F(FaultyStoreTest, FailsCheckReadyAndEverything) {
  store_.FailCheckReady(Status::NotFound("bucket 'b' does not exist"));
  EXPECT_EQ(store_.CheckReady().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Put("k").ok());
  store_.FailEverything();
  EXPECT_EQ(Put("k2").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Get("k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Head("k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.List("", "").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Delete("k").code(), StatusCode::kUnavailable);
  EXPECT_EQ(mem_.call_counts().head, 0u);
  store_.ClearFaults();
  EXPECT_TRUE(store_.CheckReady().ok());
  EXPECT_TRUE(store_.Head("k").ok());
}

TEST_F(FaultyStoreTest, NthPutIsExactUnderConcurrency) {
  PutFault f;
  f.nth = 50;
  store_.SetPutFault(f);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!Put("t" + std::to_string(t) + "/" + std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(mem_.object_count(), 99u);
}

TEST_F(FaultyStoreTest, OwnsItsBaseWhenGivenOne) {
  FaultyObjectStore owning(std::make_unique<MemObjectStore>());
  StringReader r("v");
  EXPECT_TRUE(owning.Put("k", r, {}).ok());
  EXPECT_TRUE(owning.Head("k").ok());
}

}  // namespace
}  // namespace dbbackup::store
