#include "env/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dbbackup::env {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(msg);
    case EEXIST:
      return Status::AlreadyExists(msg);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(msg);
    default:
      return Status::IOError(msg);
  }
}

}  // namespace

Result<std::unique_ptr<FileReader>> FileReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  return std::unique_ptr<FileReader>(new FileReader(fd, path));
}

FileReader::~FileReader() { ::close(fd_); }

Result<size_t> FileReader::Read(void* buf, size_t n) {
  for (;;) {
    ssize_t k = ::read(fd_, buf, n);
    if (k >= 0) return static_cast<size_t>(k);
    if (errno != EINTR) return ErrnoStatus("cannot read", path_, errno);
  }
}

Result<size_t> FileReader::ReadAt(uint64_t offset, void* buf, size_t n) {
  size_t got = 0;
  auto* p = static_cast<char*>(buf);
  while (got < n) {
    ssize_t k = ::pread(fd_, p + got, n - got, static_cast<off_t>(offset + got));
    if (k < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path_, errno);
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  return got;
}

Result<uint64_t> FileReader::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Result<std::unique_ptr<FileWriter>> FileWriter::Create(const std::string& path, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create", path, errno);
  return std::unique_ptr<FileWriter>(new FileWriter(fd, path));
}

Result<std::unique_ptr<FileWriter>> FileWriter::OpenExisting(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  return std::unique_ptr<FileWriter>(new FileWriter(fd, path));
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWriter::Write(const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::write(fd_, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path_, errno);
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
  return Status::OK();
}

Status FileWriter::Sync() {
  if (::fsync(fd_) != 0) return ErrnoStatus("cannot fsync", path_, errno);
  return Status::OK();
}

Status FileWriter::Close() {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus("cannot close", path_, errno);
  return Status::OK();
}

Result<TempFile> TempFile::Create(const std::string& dir, const std::string& prefix) {
  std::string templ = JoinPath(dir, prefix + "XXXXXX");
  int fd = ::mkstemp(templ.data());
  if (fd < 0) return ErrnoStatus("cannot create temporary file in", dir, errno);
  ::close(fd);
  return TempFile(templ);
}

TempFile& TempFile::operator=(TempFile&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::string TempFile::Release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", path, errno);
  }
  return Status::OK();
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return Status::OK();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::FailedPrecondition("not a directory: " + path);
  }
  std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") {
    DBB_RETURN_IF_ERROR(MakeDirs(parent, mode));
  }
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory", path, errno);
  }
  return Status::OK();
}

namespace {

// Opens `path` read-only with `flags` added and fsyncs it; `kind` names it in
// errors ("directory ", or "" for a file).
Status FsyncPath(const std::string& path, int flags, const std::string& kind) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return ErrnoStatus("cannot open " + kind, path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync " + kind, path, err);
  return Status::OK();
}

}  // namespace

Status SyncDir(const std::string& dir) { return FsyncPath(dir, O_DIRECTORY, "directory"); }

Status SyncFile(const std::string& path) { return FsyncPath(path, 0, "file"); }

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string BaseName(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

Status RenameFile(const std::string& from, const std::string& to, bool no_replace) {
  if (no_replace) {
    // link() fails with EEXIST atomically, unlike a stat-then-rename.
    if (::link(from.c_str(), to.c_str()) != 0) return ErrnoStatus("cannot create", to, errno);
    DBB_RETURN_IF_ERROR(RemoveFile(from));
  } else if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus("cannot rename " + from + " to", to, errno);
  }
  return SyncDir(DirName(to));
}

Result<std::string> ReadFileToString(const std::string& path) {
  DBB_ASSIGN_OR_RETURN(auto reader, FileReader::Open(path));
  return ReadAll(*reader);
}

Status WriteFileAtomic(const std::string& path, const std::string& data, int mode) {
  // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on "." + s + ".tmp".
  std::string prefix = ".";
  prefix += BaseName(path);
  prefix += ".tmp";
  DBB_ASSIGN_OR_RETURN(TempFile tmp, TempFile::Create(DirName(path), prefix));
  {
    if (::chmod(tmp.path().c_str(), static_cast<mode_t>(mode)) != 0) {
      return ErrnoStatus("cannot chmod", tmp.path(), errno);
    }
    DBB_ASSIGN_OR_RETURN(auto w, FileWriter::OpenExisting(tmp.path()));
    DBB_RETURN_IF_ERROR(w->Write(data.data(), data.size()));
    DBB_RETURN_IF_ERROR(w->Sync());
    DBB_RETURN_IF_ERROR(w->Close());
  }
  DBB_RETURN_IF_ERROR(RenameFile(tmp.path(), path));
  tmp.Release();
  return Status::OK();
}

std::string DefaultTempDir() {
  const char* t = std::getenv("TMPDIR");
  return (t != nullptr && *t != '\0') ? std::string(t) : std::string("/tmp");
}

Result<uint64_t> FreeSpace(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return ErrnoStatus("cannot statvfs", path, errno);
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace dbbackup::env
