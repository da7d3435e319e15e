// The metadata stored with every backup object (S3 user metadata, or the
// local store's sidecar). Names and meanings are frozen; see docs/format.md.
// The first five are the Python system's, so its backups stay readable and
// ours stay readable by its tools.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/object_store.h"

namespace dbbackup::catalog {

// Frozen metadata keys (x-amz-meta-<name> on S3).
inline constexpr char kMetaTimestamp[] = "timestamp";
inline constexpr char kMetaOriginalSize[] = "original-size";
inline constexpr char kMetaCompressedSize[] = "compressed-size";
inline constexpr char kMetaBackupType[] = "backup-type";
inline constexpr char kMetaDatabasePath[] = "database-path";
inline constexpr char kMetaSha256[] = "sha256";  // of the uncompressed snapshot
inline constexpr char kMetaCompressedMd5[] = "compressed-md5";
inline constexpr char kMetaCompression[] = "compression";
inline constexpr char kMetaTables[] = "tables";
inline constexpr char kMetaRecords[] = "records";
inline constexpr char kMetaToolVersion[] = "dbbackup-version";

struct BackupMetadata {
  std::string timestamp;  // ISO 8601 UTC, e.g. 2024-01-13T12:00:00Z
  uint64_t original_size = 0;
  uint64_t compressed_size = 0;
  std::string backup_type = "full";
  std::string database_path;
  // Empty when the backup was made by a tool that did not record them (the
  // Python system): restore and verify then skip the checks they enable.
  std::string sha256;
  std::string compressed_md5;
  std::string compression;  // "gzip", "zstd" or "none"
  int64_t tables = -1;      // -1 when unknown
  int64_t records = -1;
  std::string tool_version;
};

store::Metadata ToObjectMetadata(const BackupMetadata& m);

// Parses object metadata. Requires timestamp, original-size and
// compressed-size to be present and well formed (kCorruption otherwise);
// the rest is optional. Missing compression is inferred by the caller from
// the key's extension.
Result<BackupMetadata> FromObjectMetadata(const store::Metadata& meta);

}  // namespace dbbackup::catalog
