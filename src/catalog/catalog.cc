#include "catalog/catalog.h"

#include <algorithm>

namespace dbbackup::catalog {

Result<std::vector<BackupEntry>> ListBackups(store::ObjectStore& store, const std::string& prefix,
                                             const ListOptions& opts) {
  DBB_ASSIGN_OR_RETURN(auto objects, store::ListAll(store, FullBackupsPrefix(prefix)));
  std::vector<BackupEntry> entries;
  for (auto& o : objects) {
    auto parsed = ParseFullBackupKey(prefix, o.key);
    if (!parsed) continue;
    BackupEntry e;
    e.key = std::move(o.key);
    e.timestamp = parsed->timestamp;
    e.compressed_size = o.size;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const BackupEntry& a, const BackupEntry& b) {
    if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
    return a.key > b.key;
  });
  if (opts.limit > 0 && entries.size() > opts.limit) entries.resize(opts.limit);
  if (opts.with_metadata) {
    for (auto& e : entries) {
      auto info = store.Head(e.key);
      if (!info.ok()) {
        // Deleted between list and head (a concurrent prune): not an error.
        if (info.status().code() == StatusCode::kNotFound) {
          e.metadata_error = "deleted while listing";
          continue;
        }
        return info.status().Annotate("reading metadata of " + e.key);
      }
      auto meta = FromObjectMetadata(info->metadata);
      if (meta.ok()) {
        e.metadata = std::move(meta).value();
      } else {
        e.metadata_error = meta.status().message();
      }
    }
  }
  return entries;
}

Result<BackupEntry> LatestBackup(store::ObjectStore& store, const std::string& prefix) {
  DBB_ASSIGN_OR_RETURN(auto entries, ListBackups(store, prefix));
  if (entries.empty()) {
    return Status::NotFound("no backups found in " + store.Describe() + "/" +
                            FullBackupsPrefix(prefix));
  }
  return std::move(entries.front());
}

std::string CompressionFromKey(std::string_view key) {
  auto ends_with = [&](std::string_view suf) {
    return key.size() >= suf.size() && key.substr(key.size() - suf.size()) == suf;
  };
  if (ends_with(".gz")) return "gzip";
  if (ends_with(".zst")) return "zstd";
  return "none";
}

}  // namespace dbbackup::catalog
