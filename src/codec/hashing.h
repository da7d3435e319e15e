// Message digests (OpenSSL EVP) and a Reader stage that digests every byte
// passing through it, so one pass over a stream both transforms and hashes it
// (e.g. sha256 of the uncompressed data while it is being compressed).
//
// Thread-safety: a Hasher or HashingReader is used by one thread at a time.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/io.h"
#include "common/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace dbbackup::codec {

enum class HashAlgorithm { kSha256, kMd5 };

// An incremental digest; a moved-from Hasher may only be destroyed or
// assigned to. MD5 is for S3's Content-MD5 / ETag checks, never for
// security. Aborts the process if OpenSSL cannot provide the algorithm at all
// (a broken installation, not a runtime condition).
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm);
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  HashAlgorithm algorithm() const { return algorithm_; }
  void Update(const void* data, size_t n);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The digest of everything passed to Update so far, as raw bytes (32 for
  // sha256, 16 for md5) or lower-case hex. Either call ends the message: the
  // hasher then restarts empty, ready for a new message.
  std::string FinalBytes();
  std::string FinalHex();

 private:
  void Init();

  HashAlgorithm algorithm_;
  EVP_MD_CTX* ctx_ = nullptr;
};

// Lower-case hex of a whole buffer's digest.
std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);
// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);

// Feeds every byte read through `inner` to each hasher. `inner` and the
// hashers must outlive the reader; the reader does not call Final*.
class HashingReader : public Reader {
 public:
  HashingReader(Reader& inner, std::initializer_list<Hasher*> hashers)
      : inner_(inner), hashers_(hashers) {}
  HashingReader(Reader& inner, std::vector<Hasher*> hashers)
      : inner_(inner), hashers_(std::move(hashers)) {}
  Result<size_t> Read(void* buf, size_t n) override;
  // Bytes read so far.
  uint64_t count() const { return count_; }

 private:
  Reader& inner_;
  std::vector<Hasher*> hashers_;
  uint64_t count_ = 0;
};

}  // namespace dbbackup::codec
