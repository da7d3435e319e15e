#include "engine/retention.h"

#include <algorithm>

namespace dbbackup::engine {

RetentionPlan PlanRetention(std::vector<catalog::BackupEntry> backups,
                            const RetentionPolicy& policy, catalog::TimePoint now) {
  std::sort(backups.begin(), backups.end(),
            [](const catalog::BackupEntry& a, const catalog::BackupEntry& b) {
              if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
              return a.key > b.key;
            });
  RetentionPlan plan;
  const size_t min_keep = static_cast<size_t>(std::max(1, policy.min_keep));
  const auto cutoff = now - std::chrono::hours(24) * policy.retention_days;
  for (size_t i = 0; i < backups.size(); ++i) {
    bool expired = policy.retention_days > 0 && backups[i].timestamp < cutoff;
    if (i < min_keep || !expired) {
      plan.keep.push_back(std::move(backups[i]));
    } else {
      plan.remove.push_back(std::move(backups[i]));
    }
  }
  return plan;
}

}  // namespace dbbackup::engine
