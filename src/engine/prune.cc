#include "engine/prune.h"

#include "common/log.h"

namespace dbbackup::engine {

Result<PruneReport> RunPrune(const EngineContext& ctx, const PruneOptions& opts) {
  DBB_ASSIGN_OR_RETURN(auto backups, catalog::ListBackups(*ctx.store, ctx.prefix));
  RetentionPlan plan = PlanRetention(std::move(backups), opts.policy, ctx.clock->Now());
  PruneReport report;
  report.dry_run = opts.dry_run;
  for (const auto& e : plan.keep) report.kept.push_back(e.key);
  Status first_error;
  size_t failures = 0;
  for (const auto& e : plan.remove) {
    if (opts.dry_run) {
      report.deleted.push_back(e.key);
      continue;
    }
    Status st = ctx.store->Delete(e.key);
    if (st.ok()) {
      log::Info("deleted expired backup " + e.key);
      report.deleted.push_back(e.key);
    } else {
      if (failures++ == 0) first_error = st;
    }
  }
  if (failures > 0) {
    return first_error.Annotate("could not delete " + std::to_string(failures) + " of " +
                                std::to_string(plan.remove.size()) + " expired backups");
  }
  return report;
}

}  // namespace dbbackup::engine
