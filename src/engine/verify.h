// Verify: is a backup restorable? The shallow check reads only the object's
// head (presence, size, metadata, and the content MD5 where the store's etag
// is one); --deep downloads it, decompresses, compares the sha256, runs
// PRAGMA integrity_check and compares table and record counts.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace dbbackup::engine {

struct VerifyOptions {
  std::string key;  // empty = the newest backup
  bool deep = false;
  // Where --deep decompresses the backup. Default: $TMPDIR or /tmp.
  std::string temp_dir;
};

struct VerifyCheck {
  std::string name;  // "exists", "size", "metadata", "md5", "sha256", "integrity", "counts"
  bool ok = false;
  std::string detail;
};

struct VerifyReport {
  std::string key;
  bool ok = false;
  bool deep = false;
  std::vector<VerifyCheck> checks;
  double duration_s = 0;
  // The first failed check's detail, for a one-line error.
  std::string FirstFailure() const;
};

// Returns a report whether the backup is good or not (inspect report.ok);
// an error status only when verification itself could not run (store
// unreachable, bad key, backup missing: kNotFound "backup not found: KEY").
Result<VerifyReport> RunVerify(const EngineContext& ctx, const VerifyOptions& opts);

}  // namespace dbbackup::engine
