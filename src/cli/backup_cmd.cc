#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/backup.h"

namespace dbbackup::cli {

int RunBackupCommand(const CommandEnv& env, const BackupFlags& flags) {
  engine::BackupOptions opts;
  opts.db_path = env.config.database_path;
  opts.temp_dir = env.config.tmp_dir;
  opts.compression = env.config.compression;
  opts.level = env.config.compression_level;
  opts.dry_run = flags.dry_run;
  opts.prune_after = !flags.no_prune;
  opts.retention.retention_days = env.config.retention_days;
  opts.retention.min_keep = env.config.min_keep;
  auto result = engine::RunBackup(env.engine, opts);
  if (env.progress) env.progress->Finish();
  if (!result.ok()) return ReportFailure(env, result.status());
  const engine::BackupReport& r = *result;
  double ratio = r.compressed_size > 0
                     ? static_cast<double>(r.original_size) / static_cast<double>(r.compressed_size)
                     : 0;
  double saved = r.original_size > 0 ? 100.0 * (1.0 - static_cast<double>(r.compressed_size) /
                                                          static_cast<double>(r.original_size))
                                     : 0;
  double mbps = r.duration_s > 0 ? static_cast<double>(r.original_size) / 1e6 / r.duration_s : 0;
  if (env.json) {
    nlohmann::json j = {{"key", r.key},
                        {"timestamp", r.timestamp},
                        {"store", r.store},
                        {"original_size", r.original_size},
                        {"compressed_size", r.compressed_size},
                        {"compression", r.compression},
                        {"compression_ratio", ratio},
                        {"sha256", r.sha256},
                        {"tables", r.tables},
                        {"records", r.records},
                        {"duration_s", r.duration_s},
                        {"snapshot_s", r.snapshot_s},
                        {"compress_s", r.compress_s},
                        {"upload_s", r.upload_s},
                        {"throughput_mb_s", mbps},
                        {"verified", r.verified},
                        {"dry_run", r.dry_run},
                        {"pruned", r.pruned}};
    if (!r.prune_error.empty()) j["prune_error"] = r.prune_error;
    j["credentials_source"] = CredentialsSourceJson(env);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s %s\n", r.dry_run ? "Dry run: would upload" : "Backup complete:", r.key.c_str());
  std::printf("  - Store: %s\n", r.store.c_str());
  std::printf("Backup statistics:\n");
  std::printf("  - Original size: %s bytes\n", WithThousands(r.original_size).c_str());
  std::printf("  - Compressed size: %s bytes\n", WithThousands(r.compressed_size).c_str());
  std::printf("  - Compression ratio: %.1f%% (%.2fx, %s)\n", saved, ratio, r.compression.c_str());
  std::printf("  - Tables: %lld\n", static_cast<long long>(r.tables));
  std::printf("  - Total records: %s\n", WithThousands(static_cast<uint64_t>(r.records)).c_str());
  std::printf("  - Duration: %.2f s (%.1f MB/s)\n", r.duration_s, mbps);
  std::printf("  - SHA-256: %s\n", r.sha256.c_str());
  std::printf("  - Verified: %s\n", r.dry_run ? "the compressed data decompresses to the snapshot"
                                              : "size and checksum of the stored object");
  for (const auto& k : r.pruned) {
    std::printf("%s %s\n", r.dry_run ? "Would delete expired backup" : "Deleted expired backup",
                k.c_str());
  }
  return 0;
}

}  // namespace dbbackup::cli
