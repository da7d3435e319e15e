#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/restore.h"

namespace dbbackup::cli {

int RunRestoreCommand(const CommandEnv& env, const RestoreFlags& flags) {
  engine::RestoreOptions opts;
  opts.key = flags.key;
  opts.target_path = flags.to.empty() ? env.config.database_path : flags.to;
  opts.safety_copy = !flags.no_safety_copy;
  auto result = engine::RunRestore(env.engine, opts);
  if (env.progress) env.progress->Finish();
  if (!result.ok()) return ReportFailure(env, result.status());
  const engine::RestoreReport& r = *result;
  if (env.json) {
    nlohmann::json j = {
        {"key", r.key},
        {"target", r.target_path},
        {"safety_copy",
         r.safety_copy_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.safety_copy_path)},
        {"original_size", r.original_size},
        {"compressed_size", r.compressed_size},
        {"sha256", r.sha256},
        {"checksum_verified", r.checksum_verified},
        {"integrity_check", "ok"},
        {"tables", r.tables},
        {"records", r.records},
        {"duration_s", r.duration_s},
        {"download_s", r.download_s},
        {"check_s", r.check_s},
        {"replace_s", r.replace_s}};
    j["credentials_source"] = CredentialsSourceJson(env);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("Restored %s into %s\n", r.key.c_str(), r.target_path.c_str());
  if (!r.safety_copy_path.empty()) {
    std::printf("  - Previous database kept at: %s\n", r.safety_copy_path.c_str());
  }
  std::printf("  - Size: %s bytes, %lld tables, %s records\n",
              WithThousands(r.original_size).c_str(), static_cast<long long>(r.tables),
              WithThousands(static_cast<uint64_t>(r.records)).c_str());
  std::printf("  - Checks: %sPRAGMA integrity_check ok\n",
              r.checksum_verified ? "sha256 matches, " : "no sha256 recorded, ");
  std::printf("  - Duration: %.2f s\n", r.duration_s);
  return 0;
}

}  // namespace dbbackup::cli
