#include "store/validation.h"

#include <string>

namespace dbbackup::store {
namespace {

Status BadKey(std::string_view key, std::string_view why) {
  std::string shown(key.substr(0, 200));
  for (char& c : shown) {
    if (c == '\0') c = '?';
  }
  return Status::InvalidArgument("invalid object key \"" + shown + "\": " + std::string(why));
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return BadKey(key, "empty");
  if (key.size() > kMaxKeyBytes) return BadKey(key, "longer than 1024 bytes");
  if (key.find('\0') != std::string_view::npos) return BadKey(key, "contains a NUL byte");
  if (key.front() == '/') return BadKey(key, "starts with '/'");
  size_t start = 0;
  for (;;) {
    size_t end = key.find('/', start);
    std::string_view seg =
        key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg.empty()) return BadKey(key, "has an empty path segment");
    if (seg == "." || seg == "..") return BadKey(key, "has a '.' or '..' segment");
    if (seg.size() > kMaxKeySegmentBytes) return BadKey(key, "has a segment over 245 bytes");
    if (seg.ends_with(kSidecarSuffix)) return BadKey(key, "a segment ends in \".meta.json\"");
    if (seg.starts_with(kTempPrefix)) return BadKey(key, "a segment starts with \".dbbackup-tmp\"");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return Status::OK();
}

Status ValidateMetadata(const Metadata& metadata) {
  size_t total = 0;
  for (const auto& [k, v] : metadata) {
    if (k.empty()) return Status::InvalidArgument("empty metadata key");
    for (char c : k) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return Status::InvalidArgument("metadata key \"" + k + "\" is not [a-z0-9-]");
      }
    }
    for (char c : v) {
      if (c < 0x20 || c > 0x7e) {
        return Status::InvalidArgument("metadata value of \"" + k + "\" is not printable ASCII");
      }
    }
    total += k.size() + v.size();
  }
  if (total > kMaxMetadataBytes) {
    return Status::InvalidArgument("metadata is over " + std::to_string(kMaxMetadataBytes) +
                                   " bytes");
  }
  return Status::OK();
}

}  // namespace dbbackup::store
