#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/prune.h"

namespace dbbackup::cli {

int RunPruneCommand(const CommandEnv& env, const PruneFlags& flags) {
  engine::PruneOptions opts;
  opts.policy.retention_days = env.config.retention_days;
  opts.policy.min_keep = env.config.min_keep;
  opts.dry_run = flags.dry_run;
  auto result = engine::RunPrune(env.engine, opts);
  if (!result.ok()) return ReportFailure(env, result.status());
  const engine::PruneReport& r = *result;
  if (env.json) {
    nlohmann::json j = {{"deleted", r.deleted},
                        {"kept", r.kept},
                        {"dry_run", r.dry_run},
                        {"retention_days", opts.policy.retention_days},
                        {"min_keep", opts.policy.min_keep}};
    j["credentials_source"] = CredentialsSourceJson(env);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  for (const auto& k : r.deleted) {
    std::printf("%s %s\n", r.dry_run ? "Would delete" : "Deleted", k.c_str());
  }
  std::printf("%s %zu backup%s, kept %zu (retention %d days, keeping at least %d)\n",
              r.dry_run ? "Would delete" : "Deleted", r.deleted.size(),
              r.deleted.size() == 1 ? "" : "s", r.kept.size(), opts.policy.retention_days,
              opts.policy.min_keep);
  return 0;
}

}  // namespace dbbackup::cli
