#include "catalog/metadata.h"

#include <charconv>

namespace dbbackup::catalog {
namespace {

template <typename T>
bool ParseNumber(const std::string& s, T* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

store::Metadata ToObjectMetadata(const BackupMetadata& m) {
  store::Metadata out;
  out[kMetaTimestamp] = m.timestamp;
  out[kMetaOriginalSize] = std::to_string(m.original_size);
  out[kMetaCompressedSize] = std::to_string(m.compressed_size);
  out[kMetaBackupType] = m.backup_type;
  out[kMetaDatabasePath] = m.database_path;
  if (!m.sha256.empty()) out[kMetaSha256] = m.sha256;
  if (!m.compressed_md5.empty()) out[kMetaCompressedMd5] = m.compressed_md5;
  if (!m.compression.empty()) out[kMetaCompression] = m.compression;
  if (m.tables >= 0) out[kMetaTables] = std::to_string(m.tables);
  if (m.records >= 0) out[kMetaRecords] = std::to_string(m.records);
  if (!m.tool_version.empty()) out[kMetaToolVersion] = m.tool_version;
  return out;
}

Result<BackupMetadata> FromObjectMetadata(const store::Metadata& meta) {
  auto get = [&](const char* k) -> std::string {
    auto it = meta.find(k);
    return it == meta.end() ? std::string() : it->second;
  };
  BackupMetadata m;
  m.timestamp = get(kMetaTimestamp);
  if (m.timestamp.empty()) return Status::Corruption("metadata has no 'timestamp'");
  if (!ParseNumber(get(kMetaOriginalSize), &m.original_size)) {
    return Status::Corruption("metadata 'original-size' is missing or not a number");
  }
  if (!ParseNumber(get(kMetaCompressedSize), &m.compressed_size)) {
    return Status::Corruption("metadata 'compressed-size' is missing or not a number");
  }
  m.backup_type = get(kMetaBackupType);
  m.database_path = get(kMetaDatabasePath);
  m.sha256 = get(kMetaSha256);
  m.compressed_md5 = get(kMetaCompressedMd5);
  m.compression = get(kMetaCompression);
  std::string tables = get(kMetaTables), records = get(kMetaRecords);
  if (!tables.empty() && !ParseNumber(tables, &m.tables)) {
    return Status::Corruption("metadata 'tables' is not a number");
  }
  if (!records.empty() && !ParseNumber(records, &m.records)) {
    return Status::Corruption("metadata 'records' is not a number");
  }
  m.tool_version = get(kMetaToolVersion);
  return m;
}

}  // namespace dbbackup::catalog
