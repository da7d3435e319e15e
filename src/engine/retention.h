// Retention: which backups to delete. A pure function of (catalog, policy,
// now), so it is tested without a store or a clock.
//
// The rule that matters most: the newest `min_keep` backups are never
// deleted, however old. A tool whose backups silently failed for a month must
// not then delete the last good one.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace dbbackup::engine {

struct RetentionPolicy {
  // Delete backups whose timestamp is older than this many days; 0 disables
  // deletion. Default: 30 (BACKUP_RETENTION_DAYS).
  int retention_days = 30;
  // Never delete the newest N backups. Default: 1 (BACKUP_MIN_KEEP); values
  // below 1 are treated as 1.
  int min_keep = 1;
};

struct RetentionPlan {
  std::vector<catalog::BackupEntry> keep;    // newest first
  std::vector<catalog::BackupEntry> remove;  // newest first
};

// `backups` may be in any order. Backups with timestamps in the future (clock
// skew) are kept.
RetentionPlan PlanRetention(std::vector<catalog::BackupEntry> backups,
                            const RetentionPolicy& policy, catalog::TimePoint now);

}  // namespace dbbackup::engine
