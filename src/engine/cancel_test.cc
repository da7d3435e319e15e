#include "engine/cancel.h"

#include <gtest/gtest.h>

#include <string>

namespace dbbackup::engine {
namespace {

// Hands out `data` a few bytes at a time.
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(void* buf, size_t n) override {
    n = std::min<size_t>({n, 4, data_.size() - pos_});
    data_.copy(static_cast<char*>(buf), n, pos_);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

TEST(CancellableReaderTest, PassesThroughUntilCancelled) {
  StringReader inner("0123456789");
  std::atomic<bool> cancel{false};
  CancellableReader r(inner, &cancel);
  char buf[16];
  auto first = r.Read(buf, sizeof buf);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(std::string(buf, *first), "0123");
  cancel = true;
  auto second = r.Read(buf, sizeof buf);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kCancelled);
}

TEST(CancellableReaderTest, NullFlagNeverCancels) {
  StringReader inner("abcdef");
  CancellableReader r(inner, nullptr);
  std::string all;
  char buf[16];
  while (true) {
    auto n = r.Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    all.append(buf, *n);
  }
  EXPECT_EQ(all, "abcdef");
}

}  // namespace
}  // namespace dbbackup::engine
