#include "codec/hashing.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace dbbackup::codec {
namespace {

const EVP_MD* Digest(HashAlgorithm algorithm) {
  // Fetched once: EVP_MD_fetch is costly. "-fips" lets MD5 come from the
  // default provider even where FIPS properties are the default, because we
  // use it only as a transfer checksum.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", "-fips");
  return algorithm == HashAlgorithm::kSha256 ? sha256 : md5;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "dbbackup: OpenSSL digest failure: %s\n", what);
  std::abort();
}

}  // namespace

Hasher::Hasher(HashAlgorithm algorithm) : algorithm_(algorithm), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) Die("EVP_MD_CTX_new");
  Init();
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

Hasher::Hasher(Hasher&& other) noexcept : algorithm_(other.algorithm_), ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    algorithm_ = other.algorithm_;
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

void Hasher::Init() {
  const EVP_MD* md = Digest(algorithm_);
  if (md == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1) {
    Die(algorithm_ == HashAlgorithm::kSha256 ? "sha256 unavailable" : "md5 unavailable");
  }
}

void Hasher::Update(const void* data, size_t n) {
  if (n > 0 && EVP_DigestUpdate(ctx_, data, n) != 1) Die("EVP_DigestUpdate");
}

std::string Hasher::FinalBytes() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, digest, &len) != 1) Die("EVP_DigestFinal_ex");
  Init();
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string Hasher::FinalHex() { return ToHex(FinalBytes()); }

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Hasher h(HashAlgorithm::kSha256);
  h.Update(data);
  return h.FinalHex();
}

std::string Md5Hex(std::string_view data) {
  Hasher h(HashAlgorithm::kMd5);
  h.Update(data);
  return h.FinalHex();
}

Result<size_t> HashingReader::Read(void* buf, size_t n) {
  DBB_ASSIGN_OR_RETURN(size_t k, inner_.Read(buf, n));
  for (Hasher* h : hashers_) h->Update(buf, k);
  count_ += k;
  return k;
}

}  // namespace dbbackup::codec
