#include "engine/backup.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "catalog/keys.h"
#include "catalog/metadata.h"
#include "codec/compression.h"
#include "codec/hashing.h"
#include "common/log.h"
#include "engine/cancel.h"
#include "engine/prune.h"
#include "engine/util.h"
#include "env/file_util.h"
#include "env/work_dir.h"
#include "snapshot/database_check.h"
#include "snapshot/replace.h"
#include "snapshot/snapshot.h"

namespace dbbackup::engine {
namespace {

constexpr char kWorkDirPrefix[] = "dbbackup-backup-";

// MD5s what passes through while the total stays within `limit`. The
// compressed MD5 is recorded only to be compared with a plain-MD5 etag, which
// larger objects do not get (multipart); hashing them costs a zstd backup 6%
// of its CPU for nothing.
class BoundedMd5Reader : public Reader {
 public:
  BoundedMd5Reader(Reader& inner, uint64_t limit) : inner_(inner), limit_(limit) {}

  Result<size_t> Read(void* buf, size_t n) override {
    DBB_ASSIGN_OR_RETURN(size_t k, inner_.Read(buf, n));
    total_ += k;
    if (total_ <= limit_) md5_.Update(buf, k);
    return k;
  }

  // The hex MD5 of everything read, or "" past the limit.
  std::string FinalHex() { return total_ <= limit_ ? md5_.FinalHex() : ""; }

 private:
  Reader& inner_;
  const uint64_t limit_;
  uint64_t total_ = 0;
  codec::Hasher md5_{codec::HashAlgorithm::kMd5};
};

// Compresses the snapshot into `spool`, hashing both sides in the same pass.
struct SpoolResult {
  uint64_t original_size = 0;
  uint64_t compressed_size = 0;
  std::string sha256;
  std::string compressed_md5;  // empty if larger than the store's Md5EtagLimit()
};

Result<SpoolResult> CompressToSpool(const EngineContext& ctx, const std::string& snapshot_path,
                                    uint64_t snapshot_size, const std::string& spool_path,
                                    codec::Compression compression,
                                    const codec::CompressOptions& codec_opts, uint64_t md5_limit) {
  DBB_ASSIGN_OR_RETURN(auto src, env::FileReader::Open(snapshot_path));
  CancellableReader cancellable(*src, ctx.cancel);
  CountingReader counted(cancellable, [&](uint64_t n) {
    if (ctx.progress) ctx.progress(Progress{"compress", n, snapshot_size});
  });
  codec::Hasher sha256(codec::HashAlgorithm::kSha256);
  codec::HashingReader hashed(counted, {&sha256});
  // The snapshot is a file: parallel gzip samples all of it for its level
  // before the first block (codec/compression.h). A reader of its own, as
  // the samples are read from other threads.
  DBB_ASSIGN_OR_RETURN(std::shared_ptr<env::FileReader> whole, env::FileReader::Open(snapshot_path));
  codec::CompressOptions opts = codec_opts;
  opts.read_at = [whole](uint64_t offset, void* buf, size_t n) {
    return whole->ReadAt(offset, buf, n);
  };
  opts.input_size = snapshot_size;
  auto compressed = codec::NewCompressingReader(hashed, compression, opts);
  BoundedMd5Reader hashed_out(*compressed, md5_limit);
  DBB_ASSIGN_OR_RETURN(auto out, env::FileWriter::OpenExisting(spool_path));
  DBB_ASSIGN_OR_RETURN(uint64_t written, CopyStream(hashed_out, *out));
  DBB_RETURN_IF_ERROR(out->Close());
  SpoolResult r;
  r.original_size = counted.count();
  r.compressed_size = written;
  r.sha256 = sha256.FinalHex();
  r.compressed_md5 = hashed_out.FinalHex();
  return r;
}

// Metadata values must be printable ASCII on S3; percent-encode the rest so a
// path like /srv/données/app.db survives the round trip.
std::string MetadataSafe(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Dry run: nothing is uploaded, so check the spool itself decompresses to
// the snapshot that was hashed.
Status VerifySpool(const std::string& spool_path, codec::Compression compression,
                   const std::string& sha256) {
  DBB_ASSIGN_OR_RETURN(auto src, env::FileReader::Open(spool_path));
  auto plain = codec::NewDecompressingReader(*src, compression);
  codec::Hasher hasher(codec::HashAlgorithm::kSha256);
  codec::HashingReader hashed(*plain, {&hasher});
  NullWriter sink;
  DBB_ASSIGN_OR_RETURN(uint64_t n, CopyStream(hashed, sink));
  (void)n;
  if (hasher.FinalHex() != sha256) {
    return Status::Corruption("the compressed backup does not decompress to the snapshot");
  }
  return Status::OK();
}

bool IsPlainMd5(const std::string& etag) {
  if (etag.size() != 32) return false;
  for (char c : etag) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Checks what landed: size, our metadata, and the content hash where the
// store's etag is a plain MD5 of the content.
Status VerifyUploaded(store::ObjectStore& store, const std::string& key,
                      const store::ObjectInfo& put_info, const catalog::BackupMetadata& meta) {
  DBB_ASSIGN_OR_RETURN(store::ObjectInfo head, store.Head(key));
  if (head.size != meta.compressed_size) {
    return Status::Corruption("uploaded object " + key + " has " + std::to_string(head.size) +
                              " bytes, expected " + std::to_string(meta.compressed_size));
  }
  auto landed = catalog::FromObjectMetadata(head.metadata);
  if (!landed.ok()) return landed.status().Annotate("uploaded object " + key);
  if (landed->sha256 != meta.sha256 || landed->original_size != meta.original_size) {
    return Status::Corruption("uploaded object " + key + " carries different metadata");
  }
  if (!put_info.etag.empty() && !head.etag.empty() && put_info.etag != head.etag) {
    return Status::Corruption("uploaded object " + key + " has etag " + head.etag +
                              ", the upload returned " + put_info.etag);
  }
  if (!meta.compressed_md5.empty() && IsPlainMd5(head.etag) && head.etag != meta.compressed_md5) {
    return Status::Corruption("uploaded object " + key + " has MD5 " + head.etag + ", expected " +
                              meta.compressed_md5);
  }
  return Status::OK();
}

}  // namespace

Result<BackupReport> RunBackup(const EngineContext& ctx, const BackupOptions& opts) {
  const auto t0 = ctx.clock->Monotonic();
  BackupReport report;
  report.dry_run = opts.dry_run;
  report.store = ctx.store->Describe();

  DBB_RETURN_IF_ERROR(snapshot::CheckDatabaseFile(opts.db_path));
  DBB_ASSIGN_OR_RETURN(codec::Compression compression, codec::ParseCompression(opts.compression));
  report.compression = std::string(codec::CompressionName(compression));
  if (opts.level != -1) DBB_RETURN_IF_ERROR(codec::ValidateLevel(compression, opts.level));
  if (!opts.dry_run) DBB_RETURN_IF_ERROR(ctx.store->CheckReady());

  const std::string temp_dir = opts.temp_dir.empty() ? env::DefaultTempDir() : opts.temp_dir;
  DBB_ASSIGN_OR_RETURN(uint64_t db_size, env::FileSize(opts.db_path));
  DBB_RETURN_IF_ERROR(CheckFreeSpace(temp_dir, db_size + db_size / 2, "BACKUP_TMP_DIR"));

  // Snapshot and spool live in a private directory that goes away with this
  // call; what a killed backup left behind is collected here.
  if (int n = env::WorkDir::RemoveStale(temp_dir, kWorkDirPrefix)) {
    log::Info("removed " + std::to_string(n) + " leftover working director" +
              (n == 1 ? "y" : "ies") + " of interrupted backups in " + temp_dir);
  }
  DBB_ASSIGN_OR_RETURN(env::WorkDir work, env::WorkDir::Create(temp_dir, kWorkDirPrefix));

  // 1. Snapshot.
  if (ctx.progress) ctx.progress(Progress{"snapshot", 0, db_size});
  snapshot::SnapshotOptions snap_opts;
  snap_opts.temp_dir = work.path();
  snap_opts.busy_timeout_ms = opts.busy_timeout_ms;
  DBB_ASSIGN_OR_RETURN(snapshot::Snapshot snap, snapshot::TakeSnapshot(opts.db_path, snap_opts));
  DBB_ASSIGN_OR_RETURN(snapshot::DbStats stats, snapshot::CountTablesAndRecords(snap.path()));
  const auto t_snap = ctx.clock->Monotonic();

  // 2. Compress and hash into a spool file: the metadata (compressed size,
  // checksums) must be known before the upload starts.
  DBB_ASSIGN_OR_RETURN(env::TempFile spool, env::TempFile::Create(work.path(), "spool-"));
  codec::CompressOptions codec_opts;
  codec_opts.level = opts.level;
  codec_opts.threads =
      opts.threads > 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  DBB_ASSIGN_OR_RETURN(SpoolResult spooled,
                       CompressToSpool(ctx, snap.path(), snap.size(), spool.path(), compression,
                                       codec_opts, ctx.store->Md5EtagLimit()));
  const auto t_comp = ctx.clock->Monotonic();
  // Unlinking a file frees its page cache: 10 ms for 100 MB, on the critical
  // path if done at the end; beside the upload it costs nothing. Joined
  // before the work directory goes.
  std::jthread snapshot_remover([s = std::move(snap)]() mutable { auto dropped = std::move(s); });

  catalog::BackupMetadata meta;
  meta.original_size = spooled.original_size;
  meta.compressed_size = spooled.compressed_size;
  meta.backup_type = "full";
  meta.database_path = MetadataSafe(opts.db_path);
  meta.sha256 = spooled.sha256;
  meta.compressed_md5 = spooled.compressed_md5;
  meta.compression = report.compression;
  meta.tables = static_cast<int64_t>(stats.tables);
  meta.records = static_cast<int64_t>(stats.records);
  meta.tool_version = DBB_VERSION;

  const std::string db_name = env::BaseName(opts.db_path);
  const std::string extension(codec::CompressionExtension(compression));
  store::PutOptions put_opts;
  put_opts.content_type = std::string(codec::CompressionContentType(compression));
  put_opts.if_none_match = true;
  put_opts.size_hint = spooled.compressed_size;

  // 3. Upload under a key no other backup holds. Keys have one-second
  // resolution, so a second backup in the same second waits for the next.
  store::ObjectInfo put_info;
  std::string key;
  for (int attempt = 0;; ++attempt) {
    auto now = ctx.clock->Now();
    key = catalog::FullBackupKey(ctx.prefix, now, db_name, extension);
    meta.timestamp = catalog::FormatIsoTimestamp(now);
    if (opts.dry_run) break;
    auto existing = ctx.store->Head(key);
    Status st = existing.status();
    if (existing.ok()) st = Status::AlreadyExists(key);
    if (st.code() == StatusCode::kNotFound) {
      put_opts.metadata = catalog::ToObjectMetadata(meta);
      DBB_ASSIGN_OR_RETURN(auto body, env::FileReader::Open(spool.path()));
      CancellableReader cancellable(*body, ctx.cancel);
      CountingReader counted(cancellable, [&](uint64_t n) {
        if (ctx.progress) ctx.progress(Progress{"upload", n, spooled.compressed_size});
      });
      auto put = ctx.store->Put(key, counted, put_opts);
      if (put.ok()) {
        put_info = std::move(put).value();
        break;
      }
      st = put.status();
    }
    if (st.code() != StatusCode::kAlreadyExists) return st.Annotate("uploading " + key);
    if (attempt >= 5) return st.Annotate("no free backup key after 5 attempts");
    auto since_epoch = now.time_since_epoch();
    auto next = std::chrono::ceil<std::chrono::seconds>(since_epoch + std::chrono::milliseconds(1));
    ctx.clock->Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(next - since_epoch));
  }
  const auto t_up = ctx.clock->Monotonic();

  // 4. Verify what landed; a bad object must not stay visible as a backup.
  if (opts.dry_run) {
    DBB_RETURN_IF_ERROR(VerifySpool(spool.path(), compression, meta.sha256));
  } else {
    Status v = VerifyUploaded(*ctx.store, key, put_info, meta);
    if (!v.ok()) {
      ctx.store->Delete(key).IgnoreError();
      return v;
    }
  }
  report.verified = true;

  report.key = key;
  report.timestamp = meta.timestamp;
  report.original_size = meta.original_size;
  report.compressed_size = meta.compressed_size;
  report.sha256 = meta.sha256;
  report.tables = static_cast<int64_t>(stats.tables);
  report.records = static_cast<int64_t>(stats.records);
  report.snapshot_s = Seconds(t_snap - t0);
  report.compress_s = Seconds(t_comp - t_snap);
  report.upload_s = Seconds(t_up - t_comp);

  // 5. Retention, as the daily job always did. Its failure (e.g. a policy
  // without s3:DeleteObject) does not undo a good backup.
  if (opts.prune_after) {
    PruneOptions prune_opts;
    prune_opts.policy = opts.retention;
    prune_opts.dry_run = opts.dry_run;
    auto pruned = RunPrune(ctx, prune_opts);
    if (pruned.ok()) {
      report.pruned = pruned->deleted;
    } else {
      report.prune_error = pruned.status().message();
      log::Warning("retention cleanup failed: " + report.prune_error);
    }
  }
  report.duration_s = Seconds(ctx.clock->Monotonic() - t0);
  return report;
}

}  // namespace dbbackup::engine
