// MD5 of object content, the etag of the local and in-memory stores (S3
// returns the same hex digest for a single-part upload). Not for security.
//
// Thread-safety: an Md5Hasher is used by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dbbackup::store {

class Md5Hasher {
 public:
  Md5Hasher();
  ~Md5Hasher();
  Md5Hasher(const Md5Hasher&) = delete;
  Md5Hasher& operator=(const Md5Hasher&) = delete;

  void Update(const void* data, size_t n);
  // Lower-case hex of the digest of everything Update()d. Call once.
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Lower-case hex MD5 of `data`.
std::string Md5Hex(std::string_view data);

}  // namespace dbbackup::store
