#include "store/mem_store.h"

#include <gtest/gtest.h>

#include "store/md5.h"

namespace dbbackup::store {
namespace {

Result<ObjectInfo> Put(ObjectStore& s, const std::string& key, std::string data,
                       const PutOptions& opts = {}) {
  StringReader r(std::move(data));
  return s.Put(key, r, opts);
}

TEST(MemStoreTest, CountsCalls) {
  MemObjectStore s;
  ASSERT_TRUE(s.CheckReady().ok());
  ASSERT_TRUE(Put(s, "a", "1").ok());
  ASSERT_TRUE(Put(s, "b", "2").ok());
  EXPECT_FALSE(s.Get("missing").ok());
  EXPECT_TRUE(s.Head("a").ok());
  EXPECT_TRUE(s.List("", "").ok());
  EXPECT_TRUE(s.Delete("a").ok());
  auto c = s.call_counts();
  EXPECT_EQ(c.check_ready, 1u);
  EXPECT_EQ(c.put, 2u);
  EXPECT_EQ(c.get, 1u);
  EXPECT_EQ(c.head, 1u);
  EXPECT_EQ(c.list, 1u);
  EXPECT_EQ(c.del, 1u);
  s.ResetCallCounts();
  EXPECT_EQ(s.call_counts().put, 0u);
  // The views do not count.
  EXPECT_EQ(s.Contents("b"), "2");
  EXPECT_EQ(s.Contents("a"), std::nullopt);
  EXPECT_EQ(s.Keys(), std::vector<std::string>{"b"});
  EXPECT_EQ(s.object_count(), 1u);
  EXPECT_EQ(s.call_counts().get, 0u);
}

TEST(MemStoreTest, UsesTheInjectedClock) {
  env::FakeClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1000)));
  MemObjectStore s(MemStoreOptions{.clock = &clock});
  ASSERT_TRUE(Put(s, "k", "v").ok());
  EXPECT_EQ(s.Head("k")->last_modified_unix, 1000);
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(Put(s, "k", "v2").ok());
  EXPECT_EQ(s.Head("k")->last_modified_unix, 1005);
}

TEST(MemStoreTest, RefusesWhatADirectoryCannotHold) {
  MemObjectStore s;
  ASSERT_TRUE(Put(s, "a", "file").ok());
  EXPECT_EQ(Put(s, "a/b", "x").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Put(s, "x/y/z", "file").ok());
  EXPECT_EQ(Put(s, "x/y", "x").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Put(s, "x", "x").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Put(s, "x-y", "sibling, not a parent").ok());
  EXPECT_EQ(s.object_count(), 3u);
}

TEST(MemStoreTest, ReaderOutlivesDeleteAndOverwrite) {
  MemObjectStore s;
  ASSERT_TRUE(Put(s, "k", "old").ok());
  auto r = s.Get("k");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(Put(s, "k", "new").ok());
  ASSERT_TRUE(s.Delete("k").ok());
  EXPECT_EQ(*ReadAll(**r), "old");
}

TEST(MemStoreTest, IfNoneMatchDoesNotReadTheBody) {
  MemObjectStore s;
  ASSERT_TRUE(Put(s, "k", "v").ok());
  StringReader body("never read");
  PutOptions opts;
  opts.if_none_match = true;
  EXPECT_EQ(s.Put("k", body, opts).status().code(), StatusCode::kAlreadyExists);
  char c;
  EXPECT_EQ(*body.Read(&c, 1), 1u);
}

}  // namespace
}  // namespace dbbackup::store
