// Prune: apply the retention policy to the store (engine/retention.h decides,
// this executes). Only keys of the backup layout are ever deleted.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace dbbackup::engine {

struct PruneOptions {
  RetentionPolicy policy;
  // List what would be deleted; delete nothing. Default: false.
  bool dry_run = false;
};

struct PruneReport {
  std::vector<std::string> deleted;  // in dry-run: what would be deleted
  std::vector<std::string> kept;
  bool dry_run = false;
};

// Tries every planned deletion. If any fails, returns the first failure
// (e.g. kPermissionDenied "access denied for s3:DeleteObject on ...")
// annotated with how many deletions failed; the others still happened.
Result<PruneReport> RunPrune(const EngineContext& ctx, const PruneOptions& opts);

}  // namespace dbbackup::engine
