#include "store/md5.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace dbbackup::store {

struct Md5Hasher::Ctx {
  EVP_MD_CTX* ctx = nullptr;
};

Md5Hasher::Md5Hasher() : ctx_(std::make_unique<Ctx>()) {
  ctx_->ctx = EVP_MD_CTX_new();
  // Only allocation can fail here, and MD5 is always available outside FIPS
  // mode; there is no caller that could recover from either.
  if (ctx_->ctx == nullptr || EVP_DigestInit_ex(ctx_->ctx, EVP_md5(), nullptr) != 1) std::abort();
}

Md5Hasher::~Md5Hasher() { EVP_MD_CTX_free(ctx_->ctx); }

void Md5Hasher::Update(const void* data, size_t n) { EVP_DigestUpdate(ctx_->ctx, data, n); }

std::string Md5Hasher::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->ctx, digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string Md5Hex(std::string_view data) {
  Md5Hasher md5;
  md5.Update(data.data(), data.size());
  return md5.HexDigest();
}

}  // namespace dbbackup::store
