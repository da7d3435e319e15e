#include "catalog/catalog.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace dbbackup::catalog {

namespace {

// Heads every entry, a few at a time: one round trip each, so a bucket with
// thousands of backups lists in seconds rather than minutes.
Status FetchMetadata(store::ObjectStore& store, std::vector<BackupEntry>& entries) {
  constexpr size_t kParallel = 8;
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto work = [&] {
    for (size_t i = next++; i < entries.size(); i = next++) {
      BackupEntry& e = entries[i];
      auto info = store.Head(e.key);
      if (!info.ok()) {
        // Deleted between list and head (a concurrent prune): not an error.
        if (info.status().code() == StatusCode::kNotFound) {
          e.metadata_error = "deleted while listing";
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = info.status().Annotate("reading metadata of " + e.key);
        next = entries.size();  // stop the others early
        return;
      }
      auto meta = FromObjectMetadata(info->metadata);
      if (meta.ok()) {
        e.metadata = std::move(meta).value();
      } else {
        e.metadata_error = meta.status().message();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(kParallel, entries.size()); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace

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
  if (opts.with_metadata) DBB_RETURN_IF_ERROR(FetchMetadata(store, entries));
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
