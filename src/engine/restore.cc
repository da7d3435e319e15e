#include "engine/restore.h"

#include <thread>

#include "catalog/keys.h"
#include "codec/compression.h"
#include "codec/hashing.h"
#include "common/log.h"
#include "engine/util.h"
#include "env/file_util.h"
#include "env/work_dir.h"
#include "snapshot/database_check.h"
#include "snapshot/growing_file.h"
#include "snapshot/replace.h"
#include "snapshot/snapshot.h"

namespace dbbackup::engine {

Result<std::string> ResolveKey(const EngineContext& ctx, const std::string& key) {
  if (!key.empty()) {
    DBB_RETURN_IF_ERROR(catalog::ValidateUserKey(ctx.prefix, key));
    return key;
  }
  DBB_ASSIGN_OR_RETURN(catalog::BackupEntry latest, catalog::LatestBackup(*ctx.store, ctx.prefix));
  return latest.key;
}

Result<store::ObjectInfo> HeadBackup(const EngineContext& ctx, const std::string& key) {
  auto head = ctx.store->Head(key);
  if (!head.ok()) {
    if (head.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("backup not found: " + key);
    }
    return head.status();
  }
  head->key = key;  // FetchBackup names the object by it
  return head;
}

namespace {

// Tells `written` the file's size after each write.
class NotifyingWriter : public Writer {
 public:
  NotifyingWriter(Writer& inner, const std::function<void(uint64_t)>& written)
      : inner_(inner), written_(written) {}
  Status Write(const void* data, size_t n) override {
    DBB_RETURN_IF_ERROR(inner_.Write(data, n));
    total_ += n;
    if (written_) written_(total_);
    return Status::OK();
  }

 private:
  Writer& inner_;
  const std::function<void(uint64_t)>& written_;
  uint64_t total_ = 0;
};

}  // namespace

Result<FetchResult> FetchBackup(const EngineContext& ctx, const store::ObjectInfo& head,
                                const std::string& dest_path,
                                const std::function<void(uint64_t)>& written) {
  const std::string& key = head.key;
  FetchResult result;
  DBB_ASSIGN_OR_RETURN(result.metadata, catalog::FromObjectMetadata(head.metadata));
  std::string compression_name = result.metadata.compression.empty()
                                     ? catalog::CompressionFromKey(key)
                                     : result.metadata.compression;
  DBB_ASSIGN_OR_RETURN(codec::Compression compression, codec::ParseCompression(compression_name));

  auto body = ctx.store->Get(key);
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("backup not found: " + key);
    }
    return body.status();
  }
  // Three threads: the download, decompression, and hashing + writing each
  // proceed while the next stage works on what they handed on.
  PrefetchReader prefetched(**body);
  CountingReader downloaded(prefetched, [&](uint64_t n) {
    if (ctx.progress) ctx.progress(Progress{"download", n, head.size});
  });
  auto plain = codec::NewDecompressingReader(downloaded, compression);
  PrefetchReader decompressed(*plain, 1 << 20, 2);
  codec::Hasher sha256(codec::HashAlgorithm::kSha256);
  codec::HashingReader hashed(decompressed, {&sha256});
  DBB_ASSIGN_OR_RETURN(auto out, env::FileWriter::OpenExisting(dest_path));
  NotifyingWriter notifying(*out, written);
  auto copied = CopyStream(hashed, notifying);
  if (!copied.ok()) return copied.status().Annotate("restoring " + key);
  DBB_RETURN_IF_ERROR(out->Close());
  result.bytes = *copied;
  result.sha256 = sha256.FinalHex();
  if (downloaded.count() != head.size) {
    return Status::Corruption("backup " + key + " is truncated: got " +
                              std::to_string(downloaded.count()) + " of " +
                              std::to_string(head.size) + " bytes");
  }
  if (!result.metadata.sha256.empty()) {
    if (result.metadata.sha256 != result.sha256) {
      return Status::Corruption("checksum mismatch for " + key + ": expected sha256 " +
                                result.metadata.sha256 + ", got " + result.sha256);
    }
    result.checksum_verified = true;
  }
  if (result.bytes != result.metadata.original_size) {
    return Status::Corruption("backup " + key + " decompressed to " + std::to_string(result.bytes) +
                              " bytes, metadata says " +
                              std::to_string(result.metadata.original_size));
  }
  return result;
}

CheckedFetch FetchAndCheck(const EngineContext& ctx, const store::ObjectInfo& head,
                           const std::string& dest_path, const std::function<void()>& meanwhile) {
  CheckedFetch out;
  uint64_t size = 0;
  if (auto meta = catalog::FromObjectMetadata(head.metadata); meta.ok()) size = meta->original_size;
  // The check reads on the cores the download leaves idle instead of after
  // it: the file is written front to back once, and the check's verdict is
  // looked at only if the download then passes its size and SHA-256 checks.
  snapshot::GrowingFile growing(size);
  std::thread check_thread([&] {
    snapshot::IntegrityCheckOptions check_opts;
    check_opts.growing = &growing;
    out.integrity = snapshot::IntegrityCheck(dest_path, check_opts);
  });
  out.fetched = FetchBackup(ctx, head, dest_path, [&](uint64_t n) { growing.Advance(n); });
  growing.Close();
  if (out.fetched.ok() && meanwhile) meanwhile();
  check_thread.join();
  return out;
}

namespace {

// "database.db.pre-restore-20240113_120000" (a new name, never overwriting).
std::string SafetyCopyPath(const std::string& target, catalog::TimePoint now) {
  std::string base = target + ".pre-restore-" + catalog::FormatKeyTimestamp(now);
  std::string path = base;
  for (int i = 1; env::PathExists(path); ++i) path = base + "-" + std::to_string(i);
  return path;
}

}  // namespace

Result<RestoreReport> RunRestore(const EngineContext& ctx, const RestoreOptions& opts) {
  const auto t0 = ctx.clock->Monotonic();
  RestoreReport report;
  report.target_path = opts.target_path;
  DBB_ASSIGN_OR_RETURN(report.key, ResolveKey(ctx, opts.key));

  const std::string dir = env::DirName(opts.target_path);
  if (!env::PathExists(dir)) {
    return Status::NotFound("restore target directory does not exist: " + dir);
  }
  const bool target_exists = env::PathExists(opts.target_path);
  if (target_exists) {
    // Refuse early, before downloading, if we could not replace it anyway.
    Status st = snapshot::CheckDatabaseFile(opts.target_path);
    if (!st.ok() && st.code() != StatusCode::kInvalidArgument) return st;
  }

  DBB_ASSIGN_OR_RETURN(store::ObjectInfo head, HeadBackup(ctx, report.key));
  auto meta = catalog::FromObjectMetadata(head.metadata);
  if (!meta.ok()) return meta.status().Annotate("backup " + report.key);
  const uint64_t needed = meta->original_size;
  DBB_RETURN_IF_ERROR(CheckFreeSpace(dir, needed + needed / 10, "--to"));

  // 1. Download into a work directory beside the target (same file system,
  // so the final rename is atomic) and check it. One left by a killed
  // restore is collected first.
  const std::string work_prefix = "." + env::BaseName(opts.target_path) + ".dbbackup-restore-";
  env::WorkDir::RemoveStale(dir, work_prefix);
  DBB_ASSIGN_OR_RETURN(env::WorkDir work, env::WorkDir::Create(dir, work_prefix));
  DBB_ASSIGN_OR_RETURN(env::TempFile temp, env::TempFile::Create(work.path(), "restore-"));
  const auto t_start = ctx.clock->Monotonic();
  Status synced;
  Result<snapshot::DbStats> counted = snapshot::DbStats{};
  auto t_fetched = t_start;
  CheckedFetch checked = FetchAndCheck(ctx, head, temp.path(), [&] {
    t_fetched = ctx.clock->Monotonic();
    // The file must be on disk before it replaces anything: flushing it is
    // I/O, and the counts read the page cache, so both run beside the rest
    // of the check. The counts are looked at only once it passed.
    std::thread sync_thread([&] { synced = env::SyncFile(temp.path()); });
    counted = snapshot::CountTablesAndRecords(temp.path());
    sync_thread.join();
  });
  Result<FetchResult>& fetched = checked.fetched;
  const Status& integrity = checked.integrity;
  if (!fetched.ok()) return fetched.status();
  if (!integrity.ok()) return integrity.Annotate("backup " + report.key + " failed its check");
  DBB_RETURN_IF_ERROR(synced);
  DBB_ASSIGN_OR_RETURN(snapshot::DbStats stats, std::move(counted));
  const auto t_checked = ctx.clock->Monotonic();

  // 2. Safety copy, then replace.
  if (target_exists) {
    Status is_db = snapshot::CheckDatabaseFile(opts.target_path);
    if (opts.safety_copy) {
      report.safety_copy_path = SafetyCopyPath(opts.target_path, ctx.clock->Now());
      if (is_db.ok()) {
        DBB_RETURN_IF_ERROR(snapshot::CopyDatabase(opts.target_path, report.safety_copy_path)
                                .Annotate("keeping a safety copy of " + opts.target_path));
      } else {
        // Not a database (damaged beyond SQLite's reach): keep it as it is.
        DBB_RETURN_IF_ERROR(env::RenameFile(opts.target_path, report.safety_copy_path, true));
      }
      log::Info("safety copy of the current database: " + report.safety_copy_path);
    }
    if (is_db.ok()) {
      snapshot::ReplaceOptions replace_opts;
      replace_opts.busy_timeout_ms = opts.busy_timeout_ms;
      DBB_RETURN_IF_ERROR(
          snapshot::ReplaceDatabaseContents(temp.path(), opts.target_path, replace_opts));
    } else {
      // Stale journals belong to the damaged file, not to the restored one.
      for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        DBB_RETURN_IF_ERROR(env::RemoveFile(opts.target_path + suffix));
      }
      DBB_RETURN_IF_ERROR(env::RenameFile(temp.path(), opts.target_path));
      temp.Release();
    }
  } else {
    // A -wal left beside a missing database would be replayed into the
    // restored one by the next open: remove stale journals first.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      DBB_RETURN_IF_ERROR(env::RemoveFile(opts.target_path + suffix));
    }
    DBB_RETURN_IF_ERROR(env::RenameFile(temp.path(), opts.target_path, /*no_replace=*/true));
    temp.Release();
  }

  report.original_size = fetched->bytes;
  report.compressed_size = head.size;
  report.sha256 = fetched->sha256;
  report.checksum_verified = fetched->checksum_verified;
  report.tables = static_cast<int64_t>(stats.tables);
  report.records = static_cast<int64_t>(stats.records);
  const auto t_end = ctx.clock->Monotonic();
  report.download_s = Seconds(t_fetched - t_start);
  report.check_s = Seconds(t_checked - t_fetched);
  report.replace_s = Seconds(t_end - t_checked);
  report.duration_s = Seconds(t_end - t0);
  return report;
}

}  // namespace dbbackup::engine
