#include "store/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/log.h"
#include "env/file_util.h"
#include "store/md5.h"
#include "store/validation.h"

namespace dbbackup::store {
namespace {

// Frozen: the "format" field of every sidecar this code writes.
constexpr int kSidecarFormat = 1;
constexpr size_t kCopyBufferBytes = 1 << 20;
constexpr int kFileMode = 0600;
constexpr int kDirMode = 0700;
// A concurrent Delete may remove a directory between Put creating it and
// creating its temporary file there; a few attempts always win that race.
constexpr int kCreateTempAttempts = 8;

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(msg);
    case EEXIST:
      return Status::AlreadyExists(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(msg);
    default:
      return Status::IOError(msg);
  }
}

enum class Kind { kMissing, kFile, kDir, kOther };

// Does not follow a final symlink, so a link never passes for an object.
Result<Kind> KindOf(const std::string& path, struct stat* st_out = nullptr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Kind::kMissing;
    return ErrnoStatus("cannot stat", path, errno);
  }
  if (st_out != nullptr) *st_out = st;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  if (S_ISDIR(st.st_mode)) return Kind::kDir;
  return Kind::kOther;
}

std::string SidecarPath(const std::string& data_path) {
  return data_path + std::string(kSidecarSuffix);
}

struct TempWriter {
  env::TempFile file;
  std::unique_ptr<env::FileWriter> writer;
};

// A fresh ".dbbackup-tmp-*" file in `dir`, creating `dir` as needed.
Result<TempWriter> CreateTempWriter(const std::string& dir) {
  Status last;
  for (int attempt = 0; attempt < kCreateTempAttempts; ++attempt) {
    DBB_RETURN_IF_ERROR(env::MakeDirs(dir, kDirMode));
    auto tmp = env::TempFile::Create(dir, std::string(kTempPrefix) + "-");
    if (!tmp.ok()) {
      last = tmp.status();
      if (last.code() == StatusCode::kNotFound) continue;
      return last;
    }
    // TempFile reserves a unique name; FileWriter wants to create it itself
    // (O_EXCL), which also keeps the 0600 mode explicit.
    DBB_RETURN_IF_ERROR(env::RemoveFile(tmp->path()));
    auto writer = env::FileWriter::Create(tmp->path(), kFileMode);
    if (!writer.ok()) {
      last = writer.status();
      if (last.code() == StatusCode::kNotFound) continue;
      return last;
    }
    return TempWriter{std::move(tmp).value(), std::move(writer).value()};
  }
  return last;
}

std::string EncodeSidecar(const ObjectInfo& info, const std::string& content_type) {
  nlohmann::json j = {
      {"format", kSidecarFormat},
      {"size", info.size},
      {"etag", info.etag},
      {"content_type", content_type},
      {"last_modified", info.last_modified_unix},
      {"metadata", info.metadata},
  };
  // Content types are caller text; never let odd bytes turn into an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Fills size, etag, last-modified and metadata of `info` from sidecar text.
Status DecodeSidecar(const std::string& text, const std::string& path, ObjectInfo* info) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("sidecar " + path + " is not a JSON object");
  }
  try {
    int format = j.at("format").get<int>();
    if (format != kSidecarFormat) {
      return Status::Corruption("sidecar " + path + " has unsupported format " +
                                std::to_string(format));
    }
    info->size = j.at("size").get<uint64_t>();
    info->etag = j.at("etag").get<std::string>();
    info->last_modified_unix = j.at("last_modified").get<int64_t>();
    info->metadata = j.at("metadata").get<Metadata>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption("sidecar " + path + ": " + e.what());
  }
  return Status::OK();
}

// Streams [pos, end) of an open file; the file stays valid even if the object
// is replaced or deleted meanwhile, because a rename never touches the inode.
class RangeReader : public Reader {
 public:
  RangeReader(std::unique_ptr<env::FileReader> file, uint64_t pos, uint64_t end, std::string key)
      : file_(std::move(file)), pos_(pos), end_(end), key_(std::move(key)) {}

  Result<size_t> Read(void* buf, size_t n) override {
    if (pos_ >= end_) return size_t{0};
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    auto k = file_->ReadAt(pos_, buf, want);
    if (!k.ok()) return k.status().Annotate("reading object " + key_);
    if (*k == 0) {
      return Status::Corruption("object " + key_ + " ended at byte " + std::to_string(pos_) +
                                ", expected " + std::to_string(end_));
    }
    pos_ += *k;
    return *k;
  }

 private:
  std::unique_ptr<env::FileReader> file_;
  uint64_t pos_;
  uint64_t end_;
  std::string key_;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Appends to `keys`, in byte order, the keys under `dir_path` (whose key
// prefix is `key_base`, "" or ending in '/') that start with
// key_base + name_prefix and sort after `token`, until `limit` are collected.
Status WalkSorted(const std::string& dir_path, const std::string& key_base,
                  std::string_view name_prefix, const std::string& token, size_t limit,
                  std::vector<std::string>* keys) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(dir_path.c_str()));
  if (!dir) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return ErrnoStatus("cannot list directory", dir_path, errno);
  }
  // Sorting a directory's entries by name, with '/' appended to directory
  // names, visits keys in exact byte order: "a-b" < "a/x" < "a0".
  std::vector<std::pair<std::string, bool>> entries;  // (sort name, is dir)
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0) return ErrnoStatus("cannot list directory", dir_path, errno);
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name.starts_with(kTempPrefix) ||
        name.ends_with(kSidecarSuffix) || !name.starts_with(name_prefix)) {
      continue;
    }
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile
      return ErrnoStatus("cannot stat", env::JoinPath(dir_path, e->d_name), errno);
    }
    if (S_ISDIR(st.st_mode)) {
      entries.emplace_back(std::string(name) + "/", true);
    } else if (S_ISREG(st.st_mode)) {
      entries.emplace_back(std::string(name), false);
    }
  }
  dir.reset();
  std::sort(entries.begin(), entries.end());

  for (const auto& [sort_name, is_dir] : entries) {
    if (keys->size() >= limit) break;
    std::string key = key_base + sort_name;
    if (is_dir) {
      // Every key below sorts before `token` when the subtree's prefix does
      // and is not a prefix of `token`: skip the subtree without reading it.
      if (!token.empty() && key < token && !token.starts_with(key)) continue;
      std::string child = env::JoinPath(dir_path, sort_name.substr(0, sort_name.size() - 1));
      DBB_RETURN_IF_ERROR(WalkSorted(child, key, "", token, limit, keys));
    } else {
      if (!token.empty() && key <= token) continue;
      if (!ValidateKey(key).ok()) continue;  // a stray file no key can name
      keys->push_back(std::move(key));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(LocalStoreOptions options) {
  if (options.root.empty()) return Status::InvalidArgument("local store: empty root directory");
  if (options.page_size == 0) return Status::InvalidArgument("local store: page_size is 0");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(options.root, ec);
  if (ec) {
    return Status::InvalidArgument("local store: cannot resolve " + options.root + ": " +
                                   ec.message());
  }
  std::string root = abs.lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(options), root));
}

LocalObjectStore::LocalObjectStore(LocalStoreOptions options, std::string root)
    : options_(std::move(options)), root_(std::move(root)) {
  if (options_.clock == nullptr) owned_clock_ = std::make_unique<env::SystemClock>();
  clock_ = options_.clock != nullptr ? options_.clock : owned_clock_.get();
}

LocalObjectStore::~LocalObjectStore() = default;

std::string LocalObjectStore::Describe() const { return "file://" + root_; }

std::string LocalObjectStore::DataPath(const std::string& key) const {
  return env::JoinPath(root_, key);
}

std::mutex& LocalObjectStore::KeyLock(const std::string& key) {
  return key_locks_[std::hash<std::string>{}(key) % key_locks_.size()];
}

Status LocalObjectStore::CheckReady() {
  Status s = env::MakeDirs(root_, kDirMode);
  if (!s.ok()) return s.Annotate("local store " + root_);
  auto probe = env::TempFile::Create(root_, std::string(kTempPrefix) + "-ready-");
  if (!probe.ok()) return probe.status().Annotate("local store " + root_ + " is not writable");
  return Status::OK();
}

Result<ObjectInfo> LocalObjectStore::Put(const std::string& key, Reader& body,
                                         const PutOptions& opts) {
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  DBB_RETURN_IF_ERROR(ValidateMetadata(opts.metadata));
  const std::string path = DataPath(key);
  const std::string dir = env::DirName(path);
  if (opts.if_none_match) {
    // Saves reading the body; CommitPut's check is the one that counts.
    DBB_ASSIGN_OR_RETURN(Kind kind, KindOf(path));
    if (kind == Kind::kFile) return Status::AlreadyExists("object exists: " + key);
  }

  auto data_tmp = CreateTempWriter(dir);
  if (!data_tmp.ok()) return data_tmp.status().Annotate("storing " + key);
  Md5Hasher md5;
  uint64_t size = 0;
  std::vector<char> buf(kCopyBufferBytes);
  for (;;) {
    auto n = body.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status().Annotate("reading the body of " + key);
    if (*n == 0) break;
    md5.Update(buf.data(), *n);
    DBB_RETURN_IF_ERROR(data_tmp->writer->Write(buf.data(), *n));
    size += *n;
  }
  DBB_RETURN_IF_ERROR(data_tmp->writer->Sync());
  DBB_RETURN_IF_ERROR(data_tmp->writer->Close());

  ObjectInfo info;
  info.key = key;
  info.size = size;
  info.etag = md5.HexDigest();
  info.last_modified_unix =
      std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch()).count();
  info.metadata = opts.metadata;

  auto meta_tmp = CreateTempWriter(dir);
  if (!meta_tmp.ok()) return meta_tmp.status().Annotate("storing " + key);
  std::string sidecar = EncodeSidecar(info, opts.content_type);
  DBB_RETURN_IF_ERROR(meta_tmp->writer->Write(sidecar.data(), sidecar.size()));
  DBB_RETURN_IF_ERROR(meta_tmp->writer->Sync());
  DBB_RETURN_IF_ERROR(meta_tmp->writer->Close());

  Status s = CommitPut(key, data_tmp->file, meta_tmp->file, opts.if_none_match);
  if (!s.ok()) return s.Annotate("storing " + key);
  return info;
}

Status LocalObjectStore::CommitPut(const std::string& key, env::TempFile& data_tmp,
                                   env::TempFile& meta_tmp, bool if_none_match) {
  const std::string path = DataPath(key);
  const std::string sidecar = SidecarPath(path);
  std::lock_guard lock(KeyLock(key));

  DBB_ASSIGN_OR_RETURN(Kind kind, KindOf(path));
  if (kind == Kind::kFile && if_none_match) return Status::AlreadyExists("object exists");
  if (kind == Kind::kDir) {
    return Status::FailedPrecondition(path + " is a directory holding other objects");
  }
  if (kind == Kind::kOther) return Status::FailedPrecondition(path + " is not a regular file");

  // A second link to the current sidecar, so that a failed commit can put it
  // back and leave the previous object exactly as it was.
  std::optional<env::TempFile> old_sidecar;
  DBB_ASSIGN_OR_RETURN(Kind sidecar_kind, KindOf(sidecar));
  if (sidecar_kind == Kind::kFile) {
    DBB_ASSIGN_OR_RETURN(env::TempFile t,
                         env::TempFile::Create(env::DirName(path), std::string(kTempPrefix) + "-"));
    DBB_RETURN_IF_ERROR(env::RemoveFile(t.path()));
    if (::link(sidecar.c_str(), t.path().c_str()) != 0) {
      return ErrnoStatus("cannot link", sidecar, errno);
    }
    old_sidecar = std::move(t);
  }

  struct stat tmp_st;
  if (::stat(data_tmp.path().c_str(), &tmp_st) != 0) {
    return ErrnoStatus("cannot stat", data_tmp.path(), errno);
  }
  DBB_RETURN_IF_ERROR(env::RenameFile(meta_tmp.path(), sidecar));
  meta_tmp.Release();

  Status s = env::RenameFile(data_tmp.path(), path, if_none_match);
  if (s.ok()) {
    data_tmp.Release();
    return s;
  }
  // The rename may have happened with only the directory fsync failing; then
  // the new sidecar describes the visible data and must stay.
  struct stat st;
  bool committed =
      ::lstat(path.c_str(), &st) == 0 && st.st_ino == tmp_st.st_ino && st.st_dev == tmp_st.st_dev;
  if (!committed) {
    if (old_sidecar.has_value()) {
      env::RenameFile(old_sidecar->Release(), sidecar).IgnoreError();
    } else {
      env::RemoveFile(sidecar).IgnoreError();
    }
  }
  return s;
}

Result<std::unique_ptr<Reader>> LocalObjectStore::Get(const std::string& key,
                                                      std::optional<ByteRange> range) {
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = DataPath(key);
  DBB_ASSIGN_OR_RETURN(Kind kind, KindOf(path));
  if (kind != Kind::kFile) return Status::NotFound("no object " + key);
  auto file = env::FileReader::Open(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) return Status::NotFound("no object " + key);
    return file.status();
  }
  DBB_ASSIGN_OR_RETURN(uint64_t size, (*file)->Size());
  uint64_t begin = 0;
  uint64_t end = size;
  if (range.has_value()) {
    if (range->offset > size) {
      return Status::InvalidArgument("range starts at " + std::to_string(range->offset) +
                                     ", past the end of " + key);
    }
    begin = range->offset;
    if (range->length.has_value()) end = begin + std::min(*range->length, size - begin);
  }
  return std::unique_ptr<Reader>(
      std::make_unique<RangeReader>(std::move(file).value(), begin, end, key));
}

Result<ObjectInfo> LocalObjectStore::StatObject(const std::string& key, bool strict) {
  const std::string path = DataPath(key);
  struct stat st;
  DBB_ASSIGN_OR_RETURN(Kind kind, KindOf(path, &st));
  if (kind != Kind::kFile) return Status::NotFound("no object " + key);
  ObjectInfo info;
  info.key = key;
  info.size = static_cast<uint64_t>(st.st_size);
  info.last_modified_unix = st.st_mtime;

  const std::string sidecar = SidecarPath(path);
  auto text = env::ReadFileToString(sidecar);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return info;  // copied in by hand
    if (strict) return text.status();
    return info;
  }
  ObjectInfo from_sidecar = info;
  Status s = DecodeSidecar(*text, sidecar, &from_sidecar);
  if (s.ok() && from_sidecar.size != info.size) {
    s = Status::Corruption("sidecar " + sidecar + " says " + std::to_string(from_sidecar.size) +
                           " bytes, the file has " + std::to_string(info.size));
  }
  if (!s.ok()) {
    if (strict) return s;
    log::Warning("listing " + key + ": ignoring sidecar: " + s.message());
    return info;
  }
  return from_sidecar;
}

Result<ObjectInfo> LocalObjectStore::Head(const std::string& key) {
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(KeyLock(key));
  return StatObject(key, /*strict=*/true);
}

Result<ListPage> LocalObjectStore::List(const std::string& prefix, const std::string& page_token) {
  ListPage page;
  // Only the directory named by the prefix's complete segments can hold
  // matches; if those segments are not a valid key, no key can match.
  const size_t slash = prefix.rfind('/');
  const std::string dir_part = slash == std::string::npos ? "" : prefix.substr(0, slash);
  const std::string name_prefix = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
  if (!dir_part.empty() && !ValidateKey(dir_part).ok()) return page;
  if (slash != std::string::npos && dir_part.empty()) return page;  // leading '/'
  if (name_prefix.find('\0') != std::string::npos) return page;

  const std::string start_dir = dir_part.empty() ? root_ : env::JoinPath(root_, dir_part);
  const std::string key_base = dir_part.empty() ? "" : dir_part + "/";
  const std::string token = page_token < prefix ? "" : page_token;
  std::vector<std::string> keys;
  const size_t page_size = options_.page_size;
  DBB_RETURN_IF_ERROR(WalkSorted(start_dir, key_base, name_prefix, token, page_size + 1, &keys));
  if (keys.size() > page_size) {
    keys.resize(page_size);
    page.next_page_token = keys.back();
  }
  for (const std::string& key : keys) {
    auto info = StatObject(key, /*strict=*/false);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return info.status();
    }
    info->metadata.clear();
    page.objects.push_back(std::move(info).value());
  }
  return page;
}

Status LocalObjectStore::Delete(const std::string& key) {
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = DataPath(key);
  const std::string dir = env::DirName(path);
  {
    std::lock_guard lock(KeyLock(key));
    bool removed = false;
    for (const std::string& p : {path, SidecarPath(path)}) {
      DBB_ASSIGN_OR_RETURN(Kind kind, KindOf(p));
      if (kind != Kind::kFile) continue;
      DBB_RETURN_IF_ERROR(env::RemoveFile(p));
      removed = true;
    }
    if (removed) DBB_RETURN_IF_ERROR(env::SyncDir(dir));
  }
  PruneEmptyDirs(dir);
  return Status::OK();
}

Result<size_t> LocalObjectStore::RemoveStaleTemporaries(std::chrono::seconds min_age) {
  const int64_t cutoff =
      std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch() - min_age)
          .count();
  size_t removed = 0;
  DBB_RETURN_IF_ERROR(CollectStale(root_, cutoff, &removed));
  return removed;
}

Status LocalObjectStore::CollectStale(const std::string& dir_path, int64_t cutoff_unix,
                                      size_t* removed) {
  std::vector<std::string> subdirs;
  {
    std::unique_ptr<DIR, DirCloser> dir(::opendir(dir_path.c_str()));
    if (!dir) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
      return ErrnoStatus("cannot list directory", dir_path, errno);
    }
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir.get());
      if (e == nullptr) {
        if (errno != 0) return ErrnoStatus("cannot list directory", dir_path, errno);
        break;
      }
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st;
      if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      std::string path = env::JoinPath(dir_path, e->d_name);
      if (S_ISDIR(st.st_mode)) {
        subdirs.push_back(std::move(path));
      } else if (S_ISREG(st.st_mode) && name.starts_with(kTempPrefix) &&
                 st.st_mtime < cutoff_unix) {
        DBB_RETURN_IF_ERROR(env::RemoveFile(path));
        ++*removed;
      }
    }
  }
  for (const std::string& sub : subdirs) {
    DBB_RETURN_IF_ERROR(CollectStale(sub, cutoff_unix, removed));
    PruneEmptyDirs(sub);
  }
  return Status::OK();
}

void LocalObjectStore::PruneEmptyDirs(std::string dir) {
  // rmdir only ever removes an empty directory, so racing with a Put that is
  // about to use it is safe: that Put retries creating it.
  while (dir.size() > root_.size() && dir.starts_with(root_)) {
    if (::rmdir(dir.c_str()) != 0) break;
    dir = env::DirName(dir);
  }
}

}  // namespace dbbackup::store
