// Restore: download → decompress → check (sha256 from the metadata, PRAGMA
// integrity_check) into a temporary file beside the target → safety copy of
// the current database → replace the target through SQLite's backup API, so
// an application holding the database open is safe and sees the restored
// content on its next transaction.
//
// Any failure before the final step leaves the target byte-for-byte
// untouched; the final step is one SQLite transaction.
#pragma once

#include <functional>
#include <string>

#include "engine/engine.h"

namespace dbbackup::engine {

struct RestoreOptions {
  // The backup to restore; empty = the newest. Must lie under
  // <prefix>/full/ (keys with ".." are refused).
  std::string key;
  // The database to restore into. REQUIRES: non-empty; its directory exists.
  std::string target_path;
  // Keep a copy of the current database beside it before replacing it.
  // Default: true.
  bool safety_copy = true;
  // How long to wait for an application's locks on the target. Default: 30 s.
  int busy_timeout_ms = 30000;
};

struct RestoreReport {
  std::string key;
  std::string target_path;
  std::string safety_copy_path;  // empty if the target did not exist
  uint64_t original_size = 0;
  uint64_t compressed_size = 0;
  std::string sha256;
  bool checksum_verified = false;  // false for backups without a sha256
  int64_t tables = 0;
  int64_t records = 0;
  double duration_s = 0;
  // Stages: download, decompress and hash into the work file (the integrity
  // check runs alongside, on the pages that have arrived); the rest of the
  // check after the download, with the file's fsync and the counts; safety
  // copy and replace (or rename) of the target.
  double download_s = 0;
  double check_s = 0;
  double replace_s = 0;
};

// kNotFound "backup not found: KEY" / "no backups found in ...",
// kInvalidArgument for a key outside the prefix, kCorruption for a checksum
// mismatch, truncated or corrupt object or failed integrity check,
// kFailedPrecondition for too little disk space.
Result<RestoreReport> RunRestore(const EngineContext& ctx, const RestoreOptions& opts);

// Head of a backup object; kNotFound "backup not found: KEY" if absent.
Result<store::ObjectInfo> HeadBackup(const EngineContext& ctx, const std::string& key);

// Downloads and decompresses the backup `head` describes (from HeadBackup)
// into `dest_path` (an existing, empty file), checking the sha256 recorded in
// the metadata. The file is closed but not fsynced: a caller that keeps it
// syncs it (env::SyncFile). Shared by restore and verify --deep. Returns the metadata it
// checked against. `written`, if set, is told after each write how many
// bytes the file holds (they are readable through other descriptors).
struct FetchResult {
  catalog::BackupMetadata metadata;
  uint64_t bytes = 0;
  std::string sha256;
  bool checksum_verified = false;
};
Result<FetchResult> FetchBackup(const EngineContext& ctx, const store::ObjectInfo& head,
                                const std::string& dest_path,
                                const std::function<void(uint64_t)>& written = nullptr);

// FetchBackup into `dest_path` with PRAGMA integrity_check of the file
// running alongside, on the pages as they arrive (snapshot/growing_file.h).
// If the fetch succeeds, `meanwhile` (may be null) runs on this thread while
// the check finishes. `integrity` means something only if `fetched` is ok.
// Shared by restore and verify --deep.
struct CheckedFetch {
  Result<FetchResult> fetched = Status::IOError("not fetched");
  Status integrity;
};
CheckedFetch FetchAndCheck(const EngineContext& ctx, const store::ObjectInfo& head,
                           const std::string& dest_path, const std::function<void()>& meanwhile);

// The key the user asked for (validated), or the newest backup's.
Result<std::string> ResolveKey(const EngineContext& ctx, const std::string& key);

}  // namespace dbbackup::engine
