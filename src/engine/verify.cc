#include "engine/verify.h"


#include "catalog/keys.h"
#include "catalog/metadata.h"
#include "engine/restore.h"
#include "engine/util.h"
#include "env/file_util.h"
#include "env/work_dir.h"
#include "snapshot/database_check.h"
#include "snapshot/replace.h"
#include "snapshot/snapshot.h"

namespace dbbackup::engine {

std::string VerifyReport::FirstFailure() const {
  for (const auto& c : checks) {
    if (!c.ok) return c.name + ": " + c.detail;
  }
  return "";
}

Result<VerifyReport> RunVerify(const EngineContext& ctx, const VerifyOptions& opts) {
  const auto t0 = ctx.clock->Monotonic();
  VerifyReport report;
  report.deep = opts.deep;
  DBB_ASSIGN_OR_RETURN(report.key, ResolveKey(ctx, opts.key));
  auto add = [&](std::string name, bool ok, std::string detail) {
    report.checks.push_back(VerifyCheck{std::move(name), ok, std::move(detail)});
    return ok;
  };
  auto finish = [&]() -> Result<VerifyReport> {
    report.ok = true;
    for (const auto& c : report.checks) report.ok = report.ok && c.ok;
    report.duration_s = Seconds(ctx.clock->Monotonic() - t0);
    return report;
  };

  DBB_ASSIGN_OR_RETURN(store::ObjectInfo head, HeadBackup(ctx, report.key));
  add("exists", true, std::to_string(head.size) + " bytes in " + ctx.store->Describe());
  auto meta = catalog::FromObjectMetadata(head.metadata);
  if (!add("metadata", meta.ok(), meta.ok() ? "complete" : meta.status().message())) {
    return finish();
  }
  add("size", head.size == meta->compressed_size,
      head.size == meta->compressed_size
          ? std::to_string(head.size) + " bytes as recorded"
          : "object has " + std::to_string(head.size) + " bytes, metadata says " +
                std::to_string(meta->compressed_size));
  if (!meta->compressed_md5.empty() && head.etag.size() == 32 &&
      head.etag.find('-') == std::string::npos) {
    bool same = head.etag == meta->compressed_md5;
    add("md5", same,
        same ? "etag matches the recorded MD5"
             : "etag " + head.etag + " differs from the recorded MD5 " + meta->compressed_md5);
  }
  if (!opts.deep) return finish();

  const std::string temp_dir = opts.temp_dir.empty() ? env::DefaultTempDir() : opts.temp_dir;
  DBB_RETURN_IF_ERROR(CheckFreeSpace(temp_dir, meta->original_size, "TMPDIR"));
  env::WorkDir::RemoveStale(temp_dir, "dbbackup-verify-");
  DBB_ASSIGN_OR_RETURN(env::WorkDir work, env::WorkDir::Create(temp_dir, "dbbackup-verify-"));
  DBB_ASSIGN_OR_RETURN(env::TempFile temp, env::TempFile::Create(work.path(), "download-"));
  // The check reads the file as it downloads; the counts only read it, so
  // they run beside the rest of the check, and are reported only once it
  // passed.
  Result<snapshot::DbStats> stats = snapshot::DbStats{};
  CheckedFetch checked = FetchAndCheck(
      ctx, head, temp.path(), [&] { stats = snapshot::CountTablesAndRecords(temp.path()); });
  const Result<FetchResult>& fetched = checked.fetched;
  if (!fetched.ok()) {
    if (fetched.status().code() != StatusCode::kCorruption) return fetched.status();
    add("sha256", false, fetched.status().message());
    return finish();
  }
  add("sha256", true,
      fetched->checksum_verified
          ? "content matches the recorded sha256 " + fetched->sha256
          : "no sha256 recorded (made by another tool); content sha256 " + fetched->sha256);
  const Status& integrity = checked.integrity;
  if (!add("integrity", integrity.ok(), integrity.ok() ? "ok" : integrity.message())) {
    return finish();
  }
  if (!stats.ok()) {
    add("counts", false, stats.status().message());
  } else if (meta->tables >= 0 && meta->records >= 0) {
    bool same = static_cast<int64_t>(stats->tables) == meta->tables &&
                static_cast<int64_t>(stats->records) == meta->records;
    add("counts", same,
        std::to_string(stats->tables) + " tables, " + std::to_string(stats->records) + " records" +
            (same ? " as recorded"
                  : "; metadata says " + std::to_string(meta->tables) + " tables, " +
                        std::to_string(meta->records) + " records"));
  }
  return finish();
}

}  // namespace dbbackup::engine
