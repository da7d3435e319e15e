// The backup engine: what `dbbackup backup|restore|verify|prune` do, written
// against the ObjectStore interface, the snapshot and codec stages and an
// injected clock. The CLI and the daemon only parse options and call these.
//
// Concurrency (RocksDB style): which operations may run at the same time on
// one store prefix, from any processes.
//
//              | backup | restore | verify | prune
//   backup     |  yes*  |   yes   |  yes   |  yes
//   restore    |  yes   |   no**  |  yes   |  yes***
//   verify     |  yes   |   yes   |  yes   |  yes***
//   prune      |  yes   |   yes   |  yes   |  yes
//
//   *   two backups in the same second get different keys (the second waits
//       for the next second); the store's atomic Put means neither sees the
//       other half-written.
//   **  two restores into the same target serialise on SQLite's locks; the
//       last one wins. Restores into different targets are independent.
//   *** a backup pruned while being read fails that restore/verify with
//       "backup not found"; the target database is left untouched.
//
// Thread-safety: each call is independent; the store must be thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "engine/retention.h"
#include "env/clock.h"
#include "store/object_store.h"

namespace dbbackup::engine {

struct Progress {
  std::string_view phase;  // "snapshot", "compress", "upload", "download", ...
  uint64_t done = 0;       // bytes
  uint64_t total = 0;      // bytes; 0 when unknown
};
using ProgressFn = std::function<void(const Progress&)>;

// What every operation needs. `store` and `clock` must outlive the call.
struct EngineContext {
  store::ObjectStore* store = nullptr;
  env::Clock* clock = nullptr;
  // Key prefix, already normalised (catalog::NormalizePrefix). Default: "backups".
  std::string prefix = "backups";
  // Called from the calling thread; may be empty.
  ProgressFn progress;
  // Set (by another thread) to cancel the operation: its streams then fail
  // with kCancelled and it unwinds as after any error (engine/cancel.h).
  // Must outlive the call. Default: null (never cancelled).
  const std::atomic<bool>* cancel = nullptr;
};

}  // namespace dbbackup::engine
