// LocalObjectStore: a directory used as an object store. It is what users
// without S3 credentials get (BACKUP_LOCAL_DIR, default ./backups-local), and
// it has the same key layout as S3: object "backups/full/20240113_120000/
// database.db.gz" is the file ROOT/backups/full/20240113_120000/database.db.gz,
// so a tree can be copied to or from a bucket with ordinary tools.
//
// Each object's metadata lives in a sidecar file beside it,
// "<file>.meta.json" (format frozen; see docs/format.md):
//   {"format": 1, "size": N, "etag": "<hex md5>", "content_type": "...",
//    "last_modified": <unix seconds>, "metadata": {"k": "v", ...}}
// A data file without a sidecar (copied in by hand) is still an object: its
// size and time come from the file system, with an empty etag and no
// metadata.
//
// Keys follow validation.h, which is what keeps every key inside ROOT. On top
// of S3's rules, a key cannot be both an object and a "directory" of others
// ("a" and "a/b"): Put returns kFailedPrecondition.
//
// Commit protocol of Put: the body streams into a temporary file
// ".dbbackup-tmp-*" in the destination directory (hashed on the way), which is
// fsynced; the sidecar is written the same way and renamed into place; then
// the data file is renamed into place. The data file appearing is the commit
// point. Temporaries of a crashed Put are never listed;
// RemoveStaleTemporaries() collects them.
//
// Files are created 0600 and directories 0700, since they hold databases.
// List does not follow symbolic links below ROOT (ROOT itself may be one).
//
// Thread-safety: all methods may be called concurrently. Within one process,
// Put, Head and Delete of the same key are serialised around their commit, so
// Head always sees a data file with its own sidecar. Several processes writing
// the SAME key at once is not supported (the sidecar may end up describing
// the other writer's data; Head then reports kCorruption); distinct keys are
// fine.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "env/clock.h"
#include "env/file_util.h"
#include "store/object_store.h"

namespace dbbackup::store {

struct LocalStoreOptions {
  // The directory holding the objects. Created with its parents by CheckReady
  // and Put when missing. A relative path is resolved against the working
  // directory when the store is opened.
  // Default: "./backups-local".
  std::string root = "./backups-local";
  // Most keys List returns per page. Must be at least 1.
  // Default: 1000 (as S3).
  size_t page_size = 1000;
  // Source of the last-modified times recorded by Put; must outlive the store.
  // Default: nullptr, meaning the system clock.
  env::Clock* clock = nullptr;
};

class LocalObjectStore : public ObjectStore {
 public:
  // Validates `options` (kInvalidArgument for an empty root or a zero page
  // size) without touching the disk; call CheckReady() to check the directory.
  static Result<std::unique_ptr<LocalObjectStore>> Open(LocalStoreOptions options);
  ~LocalObjectStore() override;

  // "file://<absolute root>".
  std::string Describe() const override;
  // Creates ROOT if missing and proves it writable by creating and removing a
  // temporary file. kPermissionDenied or kFailedPrecondition (ROOT is not a
  // directory) naming ROOT and the action that failed.
  Status CheckReady() override;
  // See the file comment for the protocol. Returns kInvalidArgument for a bad
  // key or metadata, kAlreadyExists (opts.if_none_match), kFailedPrecondition
  // for a file/directory clash, the body's own error if reading it fails, and
  // kIOError (or kPermissionDenied) from the file system.
  Result<ObjectInfo> Put(const std::string& key, Reader& body, const PutOptions& opts) override;
  // kInvalidArgument if range->offset is past the end of the object. The
  // reader fails with kCorruption if the file shrinks while it is read.
  Result<std::unique_ptr<Reader>> Get(const std::string& key,
                                      std::optional<ByteRange> range = std::nullopt) override;
  // kCorruption if the sidecar cannot be parsed or disagrees with the file's
  // size.
  Result<ObjectInfo> Head(const std::string& key) override;
  // Walks ROOT in key order, reading only the directories that can hold keys
  // with `prefix` at or after `page_token` (the last key of the previous
  // page). Objects carry size, etag and last-modified (from the sidecar when
  // it is readable and consistent, else from the file system).
  Result<ListPage> List(const std::string& prefix, const std::string& page_token) override;
  // Removes the data file, then the sidecar, then the directories this left
  // empty, up to but not including ROOT.
  Status Delete(const std::string& key) override;

  // Removes the ".dbbackup-tmp-*" files below ROOT last modified more than
  // `min_age` ago (what crashed Puts left), then the directories that left
  // empty. Returns how many files it removed. A Put in progress keeps writing
  // its temporary file, so a `min_age` longer than any single upload's stall
  // is safe to run beside live Puts. Not needed for correctness, only space.
  Result<size_t> RemoveStaleTemporaries(std::chrono::seconds min_age);

  const std::string& root() const { return root_; }

 private:
  LocalObjectStore(LocalStoreOptions options, std::string root);

  std::string DataPath(const std::string& key) const;
  std::mutex& KeyLock(const std::string& key);
  Result<ObjectInfo> StatObject(const std::string& key, bool strict);
  Status CommitPut(const std::string& key, env::TempFile& data_tmp, env::TempFile& meta_tmp,
                   bool if_none_match);
  void PruneEmptyDirs(std::string dir);
  Status CollectStale(const std::string& dir, int64_t cutoff_unix, size_t* removed);

  const LocalStoreOptions options_;
  const std::string root_;  // absolute, no trailing '/' (unless "/")
  std::unique_ptr<env::Clock> owned_clock_;
  env::Clock* clock_;
  // Striped: a key always maps to the same mutex.
  std::array<std::mutex, 64> key_locks_;
};

}  // namespace dbbackup::store
