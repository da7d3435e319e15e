// Byte streams: the one currency between snapshot, codec, engine and store.
// Every stage pulls from a Reader, so memory stays bounded by the buffers of
// the stages, never by the size of the database.
//
// Thread-safety: a Reader or Writer is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace dbbackup {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `n` bytes into `buf`. Returns the count read; 0 means end of
  // stream. A short read is not end of stream. Errors are sticky for callers:
  // after an error the stream is unusable.
  virtual Result<size_t> Read(void* buf, size_t n) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all `n` bytes or fails.
  virtual Status Write(const void* data, size_t n) = 0;
};

// Reads until `n` bytes or end of stream; returns the count read.
Result<size_t> ReadFull(Reader& r, void* buf, size_t n);

// Copies `r` to `w` until end of stream; returns the byte count.
Result<uint64_t> CopyStream(Reader& r, Writer& w, size_t buffer_size = 1 << 20);

// Reads a whole (small) stream into a string. For tests and small objects.
Result<std::string> ReadAll(Reader& r);

// A Reader over an in-memory string (owned).
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(void* buf, size_t n) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// A Writer appending to a string it does not own; `out` must outlive it.
class StringWriter : public Writer {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  Status Write(const void* data, size_t n) override;

 private:
  std::string* out_;
};

// A Writer that discards everything (for reading a stream only to hash it).
class NullWriter : public Writer {
 public:
  Status Write(const void*, size_t) override { return Status::OK(); }
};

// Wraps a Reader and calls `on_bytes(total_so_far)` after each read. Used for
// progress and throughput, independent of what is being read.
class CountingReader : public Reader {
 public:
  CountingReader(Reader& inner, std::function<void(uint64_t)> on_bytes = {})
      : inner_(inner), on_bytes_(std::move(on_bytes)) {}
  Result<size_t> Read(void* buf, size_t n) override;
  uint64_t count() const { return count_; }

 private:
  Reader& inner_;
  std::function<void(uint64_t)> on_bytes_;
  uint64_t count_ = 0;
};

}  // namespace dbbackup
