// POSIX file helpers shared by the local store, snapshot and restore: readers
// and writers over file descriptors, temporary files that delete themselves,
// and the fsync + rename dance that makes a file appear whole or not at all.
//
// Errors name the path and the errno text. Thread-safety: none needed (each
// object is owned by one thread).
#pragma once

#include <cstdint>
#include <string>

#include "common/io.h"
#include "common/status.h"

namespace dbbackup::env {

// Reads a file sequentially. Opened with O_RDONLY only: never creates.
class FileReader : public Reader {
 public:
  static Result<std::unique_ptr<FileReader>> Open(const std::string& path);
  ~FileReader() override;
  Result<size_t> Read(void* buf, size_t n) override;
  // Reads exactly `n` bytes at `offset` (fewer only at end of file).
  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n);
  Result<uint64_t> Size() const;

 private:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Writes a new file. Close() (or Sync()+Close()) reports late errors such as
// ENOSPC on NFS; the destructor closes silently.
class FileWriter : public Writer {
 public:
  // Fails with kAlreadyExists if `path` exists (O_EXCL), so a writer never
  // truncates somebody's file.
  static Result<std::unique_ptr<FileWriter>> Create(const std::string& path, int mode = 0600);
  // Opens an existing file (e.g. a TempFile) and truncates it. Never creates.
  static Result<std::unique_ptr<FileWriter>> OpenExisting(const std::string& path);
  ~FileWriter() override;
  Status Write(const void* data, size_t n) override;
  Status Sync();
  Status Close();
  const std::string& path() const { return path_; }

 private:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// A uniquely named file in `dir` whose name starts with `prefix`; removed on
// destruction unless Release()d.
class TempFile {
 public:
  static Result<TempFile> Create(const std::string& dir, const std::string& prefix);
  TempFile(TempFile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempFile& operator=(TempFile&& o) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();
  const std::string& path() const { return path_; }
  // The caller takes over the file; the destructor will not remove it.
  std::string Release();

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

bool PathExists(const std::string& path);
Result<uint64_t> FileSize(const std::string& path);
Status RemoveFile(const std::string& path);  // OK if absent
Status MakeDirs(const std::string& path, int mode = 0755);
Status SyncDir(const std::string& dir);
// fsync of an existing file, e.g. one written and closed elsewhere.
Status SyncFile(const std::string& path);
std::string DirName(const std::string& path);  // "." for a bare name
std::string BaseName(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);
// Renames `from` to `to` and fsyncs the directory. If `no_replace`, fails with
// kAlreadyExists when `to` exists (atomically, via link + unlink).
Status RenameFile(const std::string& from, const std::string& to, bool no_replace = false);
Result<std::string> ReadFileToString(const std::string& path);
// Writes `data` to `path` atomically: temp file beside it, fsync, rename.
Status WriteFileAtomic(const std::string& path, const std::string& data, int mode = 0644);
// $TMPDIR if set and non-empty, else "/tmp".
std::string DefaultTempDir();
// Free bytes on the file system holding `path`.
Result<uint64_t> FreeSpace(const std::string& path);

}  // namespace dbbackup::env
