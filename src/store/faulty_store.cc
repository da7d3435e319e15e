#include "store/faulty_store.h"

#include <algorithm>

namespace dbbackup::store {
namespace {

// The body the base store sees for a kMidBody fault.
class FailingBody : public Reader {
 public:
  FailingBody(Reader& inner, uint64_t limit, Status error)
      : inner_(inner), limit_(limit), error_(std::move(error)) {}

  Result<size_t> Read(void* buf, size_t n) override {
    if (count_ >= limit_) return error_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, limit_ - count_));
    DBB_ASSIGN_OR_RETURN(size_t k, inner_.Read(buf, want));
    if (k == 0) return error_;  // a short body must still fail the Put
    count_ += k;
    return k;
  }

 private:
  Reader& inner_;
  const uint64_t limit_;
  const Status error_;
  uint64_t count_ = 0;
};

class FaultyReader : public Reader {
 public:
  FaultyReader(std::unique_ptr<Reader> inner, uint64_t limit, bool truncate, Status error)
      : inner_(std::move(inner)), limit_(limit), truncate_(truncate), error_(std::move(error)) {}

  Result<size_t> Read(void* buf, size_t n) override {
    if (count_ >= limit_) {
      if (truncate_) return size_t{0};
      return error_;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, limit_ - count_));
    DBB_ASSIGN_OR_RETURN(size_t k, inner_->Read(buf, want));
    count_ += k;
    return k;
  }

 private:
  std::unique_ptr<Reader> inner_;
  const uint64_t limit_;
  const bool truncate_;
  const Status error_;
  uint64_t count_ = 0;
};

}  // namespace

FaultyObjectStore::FaultyObjectStore(ObjectStore* base) : base_(base) {}

FaultyObjectStore::FaultyObjectStore(std::unique_ptr<ObjectStore> base)
    : owned_(std::move(base)), base_(owned_.get()) {}

FaultyObjectStore::~FaultyObjectStore() = default;

void FaultyObjectStore::SetPutFault(PutFault fault) {
  std::lock_guard lock(mu_);
  put_fault_ = std::move(fault);
  matching_puts_ = 0;
}

void FaultyObjectStore::SetGetFault(GetFault fault) {
  std::lock_guard lock(mu_);
  get_fault_ = std::move(fault);
  affected_gets_ = 0;
}

void FaultyObjectStore::FailDelete(const std::string& key, Status error) {
  std::lock_guard lock(mu_);
  delete_faults_.insert_or_assign(key, std::move(error));
}

void FaultyObjectStore::FailCheckReady(Status error) {
  std::lock_guard lock(mu_);
  check_ready_fault_ = std::move(error);
}

void FaultyObjectStore::FailEverything(Status error) {
  std::lock_guard lock(mu_);
  outage_ = std::move(error);
}

void FaultyObjectStore::ClearFaults() {
  std::lock_guard lock(mu_);
  put_fault_.reset();
  get_fault_.reset();
  delete_faults_.clear();
  check_ready_fault_.reset();
  outage_.reset();
}

uint64_t FaultyObjectStore::injected_count() const {
  std::lock_guard lock(mu_);
  return injected_;
}

Status FaultyObjectStore::Injected(const Status& error, const std::string& what) {
  ++injected_;
  return error.Annotate(what);
}

Status FaultyObjectStore::CheckOutage(const std::string& what) {
  std::lock_guard lock(mu_);
  if (!outage_.has_value()) return Status::OK();
  return Injected(*outage_, what);
}

std::string FaultyObjectStore::Describe() const { return "faulty(" + base_->Describe() + ")"; }

Status FaultyObjectStore::CheckReady() {
  DBB_RETURN_IF_ERROR(CheckOutage("check ready"));
  {
    std::lock_guard lock(mu_);
    if (check_ready_fault_.has_value()) return Injected(*check_ready_fault_, "check ready");
  }
  return base_->CheckReady();
}

Result<ObjectInfo> FaultyObjectStore::Put(const std::string& key, Reader& body,
                                          const PutOptions& opts) {
  DBB_RETURN_IF_ERROR(CheckOutage("put " + key));
  std::optional<PutFault> fire;
  {
    std::lock_guard lock(mu_);
    if (put_fault_.has_value() && key.starts_with(put_fault_->key_prefix)) {
      ++matching_puts_;
      if (matching_puts_ == put_fault_->nth ||
          (put_fault_->sticky && matching_puts_ > put_fault_->nth)) {
        fire = put_fault_;
        ++injected_;
      }
    }
  }
  if (!fire.has_value()) return base_->Put(key, body, opts);
  const std::string what = "put " + key;
  switch (fire->point) {
    case PutFault::Point::kBeforeBody:
      return fire->error.Annotate(what);
    case PutFault::Point::kMidBody: {
      FailingBody failing(body, fire->after_bytes, fire->error);
      auto r = base_->Put(key, failing, opts);
      if (r.ok()) {
        // A base store that ignores a failing body is a bug worth shouting
        // about; the caller must still see the failure.
        return Status::Corruption(what + ": the store accepted a body that failed");
      }
      return r.status();
    }
    case PutFault::Point::kAfterCommit: {
      auto r = base_->Put(key, body, opts);
      if (!r.ok()) return r.status();
      return fire->error.Annotate(what);
    }
  }
  return fire->error.Annotate(what);
}

Result<std::unique_ptr<Reader>> FaultyObjectStore::Get(const std::string& key,
                                                       std::optional<ByteRange> range) {
  DBB_RETURN_IF_ERROR(CheckOutage("get " + key));
  std::optional<GetFault> fire;
  {
    std::lock_guard lock(mu_);
    if (get_fault_.has_value() && key.starts_with(get_fault_->key_prefix)) {
      fire = get_fault_;
      ++affected_gets_;
      if (get_fault_->times != 0 && affected_gets_ >= get_fault_->times) get_fault_.reset();
      if (fire->mode == GetFault::Mode::kFailOpen) return Injected(fire->error, "get " + key);
      ++injected_;  // counted when armed; the reader may be dropped early
    }
  }
  DBB_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, base_->Get(key, range));
  if (!fire.has_value()) return reader;
  return std::unique_ptr<Reader>(std::make_unique<FaultyReader>(
      std::move(reader), fire->after_bytes, fire->mode == GetFault::Mode::kTruncateAfter,
      fire->error.Annotate("reading " + key)));
}

Result<ObjectInfo> FaultyObjectStore::Head(const std::string& key) {
  DBB_RETURN_IF_ERROR(CheckOutage("head " + key));
  return base_->Head(key);
}

Result<ListPage> FaultyObjectStore::List(const std::string& prefix, const std::string& page_token) {
  DBB_RETURN_IF_ERROR(CheckOutage("list " + prefix));
  return base_->List(prefix, page_token);
}

Status FaultyObjectStore::Delete(const std::string& key) {
  DBB_RETURN_IF_ERROR(CheckOutage("delete " + key));
  {
    std::lock_guard lock(mu_);
    auto it = delete_faults_.find(key);
    if (it != delete_faults_.end()) return Injected(it->second, "delete " + key);
  }
  return base_->Delete(key);
}

}  // namespace dbbackup::store
