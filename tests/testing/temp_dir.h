// ScopedTempDir: a fresh directory for one test, removed with everything in it
// when the object goes out of scope (kept if DBB_KEEP_TEST_TMP=1, for debugging;
// the path is then printed).
//
// Thread-safety: distinct objects may be used from different threads.
#pragma once

#include <filesystem>
#include <string>

namespace dbbackup::testing {

class ScopedTempDir {
 public:
  // Creates $TMPDIR/dbb-test-XXXXXX (/tmp if TMPDIR is unset). Aborts the test
  // program if the directory cannot be created: nothing sensible can follow.
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string (for argv and environment values).
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace dbbackup::testing
