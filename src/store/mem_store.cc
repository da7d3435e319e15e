#include "store/mem_store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>

#include "store/md5.h"
#include "store/validation.h"

namespace dbbackup::store {
namespace {

// Streams a slice of shared content; the shared_ptr keeps it alive after the
// object is deleted or replaced, as an open file would.
class SliceReader : public Reader {
 public:
  SliceReader(std::shared_ptr<const std::string> data, size_t begin, size_t end)
      : data_(std::move(data)), pos_(begin), end_(end) {}

  Result<size_t> Read(void* buf, size_t n) override {
    size_t k = std::min(n, end_ - pos_);
    std::memcpy(buf, data_->data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::shared_ptr<const std::string> data_;
  size_t pos_;
  size_t end_;
};

}  // namespace

MemObjectStore::MemObjectStore(MemStoreOptions options) : options_(options) {
  if (options_.clock == nullptr) owned_clock_ = std::make_unique<env::SystemClock>();
  clock_ = options_.clock != nullptr ? options_.clock : owned_clock_.get();
}

MemObjectStore::~MemObjectStore() = default;

std::string MemObjectStore::Describe() const {
  std::ostringstream out;
  out << "mem://" << static_cast<const void*>(this);
  return out.str();
}

Status MemObjectStore::CheckReady() {
  std::lock_guard lock(mu_);
  ++counts_.check_ready;
  return Status::OK();
}

int64_t MemObjectStore::NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch()).count();
}

Status MemObjectStore::CheckNoPathConflict(const std::string& key) const {
  // An existing object at a proper prefix "a" of "a/b/c" would be a file
  // where a directory must go.
  for (size_t pos = key.find('/'); pos != std::string::npos; pos = key.find('/', pos + 1)) {
    if (objects_.count(key.substr(0, pos)) != 0) {
      return Status::FailedPrecondition("cannot store " + key + ": " + key.substr(0, pos) +
                                        " is an object, not a directory");
    }
  }
  // And an object "a/b" under "a/" means "a" is a directory.
  std::string dir = key + "/";
  auto it = objects_.lower_bound(dir);
  if (it != objects_.end() && it->first.starts_with(dir)) {
    return Status::FailedPrecondition("cannot store " + key + ": objects exist under " + dir);
  }
  return Status::OK();
}

Result<ObjectInfo> MemObjectStore::Put(const std::string& key, Reader& body,
                                       const PutOptions& opts) {
  {
    std::lock_guard lock(mu_);
    ++counts_.put;
  }
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  DBB_RETURN_IF_ERROR(ValidateMetadata(opts.metadata));
  if (opts.if_none_match) {
    // Fail before reading the body, as S3 would after its upload; the check
    // under the lock below is the one that counts.
    std::lock_guard lock(mu_);
    if (objects_.count(key) != 0) return Status::AlreadyExists("object exists: " + key);
  }
  auto data = ReadAll(body);
  if (!data.ok()) return data.status().Annotate("reading the body of " + key);

  Object obj;
  obj.info.key = key;
  obj.info.size = data->size();
  obj.info.etag = Md5Hex(*data);
  obj.info.metadata = opts.metadata;
  obj.data = std::make_shared<const std::string>(std::move(data).value());

  std::lock_guard lock(mu_);
  obj.info.last_modified_unix = NowUnix();
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    if (opts.if_none_match) return Status::AlreadyExists("object exists: " + key);
    it->second = std::move(obj);
    return it->second.info;
  }
  DBB_RETURN_IF_ERROR(CheckNoPathConflict(key));
  return objects_.emplace(key, std::move(obj)).first->second.info;
}

Result<std::unique_ptr<Reader>> MemObjectStore::Get(const std::string& key,
                                                    std::optional<ByteRange> range) {
  std::lock_guard lock(mu_);
  ++counts_.get;
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + key);
  const auto& data = it->second.data;
  size_t begin = 0;
  size_t end = data->size();
  if (range.has_value()) {
    if (range->offset > data->size()) {
      return Status::InvalidArgument("range starts past the end of " + key);
    }
    begin = static_cast<size_t>(range->offset);
    if (range->length.has_value()) {
      end = static_cast<size_t>(std::min<uint64_t>(end, begin + *range->length));
    }
  }
  return std::unique_ptr<Reader>(std::make_unique<SliceReader>(data, begin, end));
}

Result<ObjectInfo> MemObjectStore::Head(const std::string& key) {
  std::lock_guard lock(mu_);
  ++counts_.head;
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + key);
  return it->second.info;
}

Result<ListPage> MemObjectStore::List(const std::string& prefix, const std::string& page_token) {
  std::lock_guard lock(mu_);
  ++counts_.list;
  ListPage page;
  auto it = page_token.empty() || page_token < prefix ? objects_.lower_bound(prefix)
                                                      : objects_.upper_bound(page_token);
  const size_t page_size = std::max<size_t>(1, options_.page_size);
  for (; it != objects_.end() && it->first.starts_with(prefix); ++it) {
    if (page.objects.size() == page_size) {
      page.next_page_token = page.objects.back().key;
      break;
    }
    ObjectInfo info = it->second.info;
    info.metadata.clear();
    page.objects.push_back(std::move(info));
  }
  return page;
}

Status MemObjectStore::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  ++counts_.del;
  DBB_RETURN_IF_ERROR(ValidateKey(key));
  objects_.erase(key);
  return Status::OK();
}

MemObjectStore::CallCounts MemObjectStore::call_counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void MemObjectStore::ResetCallCounts() {
  std::lock_guard lock(mu_);
  counts_ = CallCounts{};
}

size_t MemObjectStore::object_count() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

std::optional<std::string> MemObjectStore::Contents(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return *it->second.data;
}

std::vector<std::string> MemObjectStore::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& [k, v] : objects_) keys.push_back(k);
  return keys;
}

}  // namespace dbbackup::store
