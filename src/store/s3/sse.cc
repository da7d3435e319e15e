#include "store/s3/sse.h"

#include <cctype>

#include "env/file_util.h"
#include "store/s3/crypto.h"

namespace dbbackup::store::s3 {

Status ValidateSseOptions(const S3Options& o) {
  if (o.sse != "AES256" && o.sse != "aws:kms" && o.sse != "SSE-C" && o.sse != "none" &&
      !o.sse.empty()) {
    return Status::InvalidArgument("S3: sse must be AES256, aws:kms, SSE-C or none, got '" + o.sse +
                                   "'");
  }
  if (!o.sse_kms_key_id.empty() && o.sse != "aws:kms") {
    return Status::InvalidArgument("S3: sse_kms_key_id is set but sse is not aws:kms");
  }
  if (o.sse == "SSE-C" && o.sse_customer_key.size() != kSseCustomerKeySize) {
    return Status::InvalidArgument("S3: sse SSE-C needs a 32-byte customer key, got " +
                                   std::to_string(o.sse_customer_key.size()) + " bytes");
  }
  if (!o.sse_customer_key.empty() && o.sse != "SSE-C") {
    return Status::InvalidArgument("S3: a customer key is set but sse is not SSE-C");
  }
  return Status::OK();
}

HeaderList SseWriteHeaders(const S3Options& o) {
  HeaderList h;
  if (o.sse == "AES256" || o.sse == "aws:kms") {
    h.emplace_back("x-amz-server-side-encryption", o.sse);
    if (!o.sse_kms_key_id.empty()) {
      h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", o.sse_kms_key_id);
    }
  }
  for (auto& header : SseCustomerHeaders(o)) h.push_back(std::move(header));
  return h;
}

HeaderList SseCustomerHeaders(const S3Options& o) {
  if (o.sse != "SSE-C") return {};
  return {{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
          {"x-amz-server-side-encryption-customer-key", Base64Encode(o.sse_customer_key)},
          {"x-amz-server-side-encryption-customer-key-MD5", Base64Encode(Md5(o.sse_customer_key))}};
}

Status ExplainSseReadError(const S3Options& o, const Status& failure) {
  const bool bad_request = failure.code() == StatusCode::kInvalidArgument;
  const bool denied = failure.code() == StatusCode::kPermissionDenied;
  if (o.sse != "SSE-C" && bad_request) {
    return Status(failure.code(),
                  failure.message() +
                      " (if the backup was written with SSE-C, set BACKUP_SSE=SSE-C and "
                      "BACKUP_SSE_CUSTOMER_KEY_FILE to the key it was written with)",
                  failure.retryable());
  }
  if (o.sse == "SSE-C" && (bad_request || denied)) {
    return Status(failure.code(),
                  failure.message() +
                      " (check that BACKUP_SSE_CUSTOMER_KEY_FILE holds the SSE-C key the backup "
                      "was written with)",
                  failure.retryable());
  }
  return failure;
}

Result<std::string> ReadSseCustomerKeyFile(const std::string& path) {
  Result<std::string> text = env::ReadFileToString(path);
  if (!text.ok()) {
    return text.status().Annotate("cannot read BACKUP_SSE_CUSTOMER_KEY_FILE " + path);
  }
  if (text->size() == kSseCustomerKeySize) return std::move(text).value();
  std::string_view t = *text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  if (std::optional<std::string> decoded = Base64Decode(t);
      decoded && decoded->size() == kSseCustomerKeySize) {
    return std::move(decoded).value();
  }
  return Status::InvalidArgument("BACKUP_SSE_CUSTOMER_KEY_FILE " + path +
                                 " must hold exactly 32 raw bytes or their base64 (44 "
                                 "characters), e.g. from `openssl rand -base64 32`; it has " +
                                 std::to_string(text->size()) + " bytes");
}

}  // namespace dbbackup::store::s3
