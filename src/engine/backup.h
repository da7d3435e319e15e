// Full backup: consistent online snapshot (SQLite backup API) → compress and
// hash in one streaming pass → atomic upload with metadata → verify what
// landed → retention.
//
// The commit point is the store's atomic Put: until it completes, no list or
// restore can see the backup; a crash at any moment before leaves only local
// temporary files (removed on the way out) or, on S3, an incomplete multipart
// upload that was aborted (or is reclaimed by a lifecycle rule).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace dbbackup::engine {

struct BackupOptions {
  // The live database to back up. REQUIRES: non-empty.
  std::string db_path;
  // Where the snapshot and the compressed spool are written. Needs about the
  // database size plus the compressed size free. Default: $TMPDIR or /tmp.
  std::string temp_dir;
  // "gzip", "zstd" or "none". Default: "gzip" (what `gunzip` restores).
  std::string compression = "gzip";
  // Codec level; -1 = the codec's default (gzip 6, zstd 1). Default: -1.
  int level = -1;
  // Compression threads; 0 = one per core. Default: 0.
  int threads = 0;
  // Do everything but write to (or delete from) the store. Default: false.
  bool dry_run = false;
  // Apply `retention` after a successful backup, as the daily job always
  // did. Default: true.
  bool prune_after = true;
  RetentionPolicy retention;
  // How long to wait for SQLite locks on the source. Default: 30 s.
  int busy_timeout_ms = 30000;
};

struct BackupReport {
  std::string key;
  std::string timestamp;  // ISO 8601 UTC
  std::string store;      // e.g. s3://bucket
  uint64_t original_size = 0;
  uint64_t compressed_size = 0;
  std::string sha256;
  std::string compression;
  int64_t tables = 0;
  int64_t records = 0;
  double duration_s = 0;
  double snapshot_s = 0;
  double compress_s = 0;
  double upload_s = 0;
  bool dry_run = false;
  bool verified = false;
  std::vector<std::string> pruned;  // deleted (or, in dry-run, would be)
  std::string prune_error;          // retention failed after a good backup
};

// Returns kNotFound / kInvalidArgument / kPermissionDenied for a bad source
// ("database not found: PATH", "not a SQLite database: PATH", ...), the
// store's error for upload failures, kCorruption if what landed differs from
// what was sent (the bad object is then deleted). A failure of the retention
// step after a good backup does not fail the backup: it is reported in
// prune_error.
Result<BackupReport> RunBackup(const EngineContext& ctx, const BackupOptions& opts);

}  // namespace dbbackup::engine
