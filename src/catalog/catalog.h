// The catalog: which backups exist in a store, newest first. Built from the
// object listing alone (the key carries the timestamp), so an object appears
// here exactly when the store shows it — which is only once it is complete.
//
// Thread-safety: functions are stateless; the store must be thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/keys.h"
#include "catalog/metadata.h"
#include "store/object_store.h"

namespace dbbackup::catalog {

struct BackupEntry {
  std::string key;
  TimePoint timestamp;
  uint64_t compressed_size = 0;            // the object's size
  std::optional<BackupMetadata> metadata;  // filled when requested
  std::string metadata_error;              // why metadata is absent, if requested
};

struct ListOptions {
  // Head every backup for its metadata (original size...). Default: false.
  bool with_metadata = false;
  // Keep only the newest N (0 = all). Applied before fetching metadata.
  size_t limit = 0;
};

// All full backups under `prefix`, newest first (ties broken by key).
// Objects that do not follow the key layout are ignored.
Result<std::vector<BackupEntry>> ListBackups(store::ObjectStore& store, const std::string& prefix,
                                             const ListOptions& opts = {});

// The newest backup; kNotFound "no backups found in <store>/<prefix>/full/" if none.
Result<BackupEntry> LatestBackup(store::ObjectStore& store, const std::string& prefix);

// The compression implied by a key's extension: "gzip" for .gz, "zstd" for
// .zst, "none" otherwise.
std::string CompressionFromKey(std::string_view key);

}  // namespace dbbackup::catalog
