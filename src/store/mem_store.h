// MemObjectStore: an ObjectStore in memory, for hermetic tests of everything
// above the store. It keeps the full contract of object_store.h and the key
// rules of validation.h, and it refuses the same key shapes LocalObjectStore
// cannot hold (an object at "a" and another at "a/b"), so that code tested
// here also works on a directory.
//
// Test hooks: per-method call counters, and direct views of the content.
//
// Thread-safety: all methods may be called concurrently; one mutex guards the
// map. Put reads its body before taking the lock. A Reader from Get keeps its
// own reference to the content, so it stays valid after Delete or overwrite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "env/clock.h"
#include "store/object_store.h"

namespace dbbackup::store {

struct MemStoreOptions {
  // Most keys List returns per page. Must be at least 1.
  // Default: 1000 (as S3).
  size_t page_size = 1000;
  // Source of last-modified times; must outlive the store.
  // Default: nullptr, meaning the system clock.
  env::Clock* clock = nullptr;
};

class MemObjectStore : public ObjectStore {
 public:
  // How often each method was called, failures included.
  struct CallCounts {
    uint64_t check_ready = 0;
    uint64_t put = 0;
    uint64_t get = 0;
    uint64_t head = 0;
    uint64_t list = 0;
    uint64_t del = 0;
  };

  explicit MemObjectStore(MemStoreOptions options = {});
  ~MemObjectStore() override;

  // "mem://<address of this store>".
  std::string Describe() const override;
  // Always OK.
  Status CheckReady() override;
  // Returns kInvalidArgument for a bad key or metadata, kFailedPrecondition
  // when the key would be both an object and a "directory" of another object
  // (see the file comment), the body's own error if reading it fails.
  Result<ObjectInfo> Put(const std::string& key, Reader& body, const PutOptions& opts) override;
  // kInvalidArgument if range->offset is past the end of the object.
  Result<std::unique_ptr<Reader>> Get(const std::string& key,
                                      std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  // The page token is the last key of the previous page.
  Result<ListPage> List(const std::string& prefix, const std::string& page_token) override;
  Status Delete(const std::string& key) override;

  // Test hooks.
  CallCounts call_counts() const;
  void ResetCallCounts();
  size_t object_count() const;
  // The content at `key`, or nullopt when absent. Bypasses the counters.
  std::optional<std::string> Contents(const std::string& key) const;
  // Every key in byte order. Bypasses the counters.
  std::vector<std::string> Keys() const;

 private:
  struct Object {
    std::shared_ptr<const std::string> data;
    ObjectInfo info;
  };

  int64_t NowUnix();
  // REQUIRES: mu_ held.
  Status CheckNoPathConflict(const std::string& key) const;

  const MemStoreOptions options_;
  std::unique_ptr<env::Clock> owned_clock_;
  env::Clock* clock_;

  mutable std::mutex mu_;
  std::map<std::string, Object> objects_;  // guarded by mu_
  CallCounts counts_;                      // guarded by mu_
};

}  // namespace dbbackup::store
