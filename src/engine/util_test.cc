#include "engine/util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>

namespace dbbackup::engine {
namespace {

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(5);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

Result<std::string> Drain(Reader& r, size_t read_size) {
  std::string out;
  std::vector<char> buf(read_size);
  for (;;) {
    DBB_ASSIGN_OR_RETURN(size_t k, r.Read(buf.data(), buf.size()));
    if (k == 0) return out;
    out.append(buf.data(), k);
  }
}

// Yields `data` in pieces of `piece` bytes, then fails (if `fail`) or ends.
class PiecesReader : public Reader {
 public:
  PiecesReader(std::string data, size_t piece, bool fail)
      : data_(std::move(data)), piece_(piece), fail_(fail) {}
  Result<size_t> Read(void* buf, size_t n) override {
    if (pos_ == data_.size()) {
      if (fail_) return Status::IOError("connection reset");
      return size_t{0};
    }
    const size_t k = std::min({n, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t piece_;
  bool fail_;
  size_t pos_ = 0;
};

// Never ends; counts the bytes it handed out.
class EndlessReader : public Reader {
 public:
  Result<size_t> Read(void* buf, size_t n) override {
    std::memset(buf, 'z', n);
    bytes += n;
    return n;
  }
  std::atomic<uint64_t> bytes{0};
};

TEST(PrefetchReaderTest, PassesTheStreamThroughInOrder) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{65536}, size_t{5 << 20} + 123}) {
    const std::string data = RandomBytes(size);
    PiecesReader source(data, 7777, false);
    PrefetchReader prefetched(source, 65536, 3);
    Result<std::string> out = Drain(prefetched, 1000);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(*out == data) << "size " << size;
    // The end is sticky.
    char c;
    EXPECT_EQ(prefetched.Read(&c, 1).value(), 0u);
  }
}

TEST(PrefetchReaderTest, SourceErrorComesAfterTheBytesBeforeIt) {
  const std::string data = RandomBytes(300000);
  PiecesReader source(data, 50000, true);
  PrefetchReader prefetched(source, 100000, 2);
  std::string got;
  std::vector<char> buf(4096);
  Status error;
  for (;;) {
    Result<size_t> k = prefetched.Read(buf.data(), buf.size());
    if (!k.ok()) {
      error = k.status();
      break;
    }
    ASSERT_NE(*k, 0u) << "the stream must not end cleanly";
    got.append(buf.data(), *k);
  }
  EXPECT_TRUE(got == data);
  EXPECT_EQ(error.code(), StatusCode::kIOError);
  EXPECT_EQ(error.message(), "connection reset");
}

TEST(PrefetchReaderTest, ReadsAtMostItsBuffersAheadAndStopsWhenDestroyed) {
  EndlessReader source;
  {
    PrefetchReader prefetched(source, 4096, 3);
    char buf[10];
    ASSERT_EQ(prefetched.Read(buf, sizeof buf).value(), sizeof buf);
    EXPECT_EQ(std::string(buf, sizeof buf), std::string(10, 'z'));
  }
  // Three buffers ahead, plus the one being handed back: bounded, not endless.
  EXPECT_LE(source.bytes.load(), 4u * 4096);
}

}  // namespace
}  // namespace dbbackup::engine
