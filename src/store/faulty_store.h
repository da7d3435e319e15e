// FaultyObjectStore: a decorator that makes another ObjectStore fail on
// command, for fault-injection tests in RocksDB's style ("the 3rd upload dies
// half-way through its body; is the backup invisible, and does the next run
// succeed?"). With no fault set it passes every call through unchanged.
//
// Put faults strike before the body is read, part-way through it (the base
// store really receives a body that fails, so its own cleanup is exercised),
// or after the base store committed (a lost acknowledgement). Get faults make
// the open fail, or make the reader fail or silently end after K bytes.
// Delete and CheckReady faults fail those calls; FailEverything fails all.
//
// Thread-safety: all methods, including the fault setters, may be called
// concurrently. A fault set while a call is in flight affects later calls.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/object_store.h"

namespace dbbackup::store {

struct PutFault {
  enum class Point {
    kBeforeBody,   // fails without calling the base store
    kMidBody,      // the body handed to the base store fails after after_bytes
    kAfterCommit,  // the base Put succeeds, then the caller gets the error
  };
  // Which matching Put fails, counted from when the fault is set: 1 is the
  // next one. Default: 1.
  uint64_t nth = 1;
  // Default: kBeforeBody.
  Point point = Point::kBeforeBody;
  // For kMidBody: the body fails once this many bytes have been read from it,
  // or at its end if it is shorter, so the Put always fails. Default: 0.
  uint64_t after_bytes = 0;
  // Whether every matching Put from the nth on fails. Default: false.
  bool sticky = false;
  // Only Puts whose key starts with this match (and are counted).
  // Default: "" (every Put).
  std::string key_prefix;
  // Default: kIOError "injected put failure".
  Status error = Status::IOError("injected put failure");
};

struct GetFault {
  enum class Mode {
    kFailOpen,       // Get itself returns `error`
    kFailAfter,      // the reader returns `error` after after_bytes bytes
    kTruncateAfter,  // the reader reports end of stream after after_bytes
  };
  // Default: kFailAfter.
  Mode mode = Mode::kFailAfter;
  // Default: 0.
  uint64_t after_bytes = 0;
  // Only Gets whose key starts with this are affected. Default: "" (all).
  std::string key_prefix;
  // How many Gets to affect, then the fault clears itself; 0 is unlimited.
  // Default: 0.
  uint64_t times = 0;
  // Default: kIOError "injected get failure".
  Status error = Status::IOError("injected get failure");
};

class FaultyObjectStore : public ObjectStore {
 public:
  // `base` must outlive this.
  explicit FaultyObjectStore(ObjectStore* base);
  // Owns `base`.
  explicit FaultyObjectStore(std::unique_ptr<ObjectStore> base);
  ~FaultyObjectStore() override;

  // Replaces any earlier fault of the same kind.
  void SetPutFault(PutFault fault);
  void SetGetFault(GetFault fault);
  // Delete(key) returns `error` until cleared.
  void FailDelete(const std::string& key,
                  Status error = Status::IOError("injected delete failure"));
  void FailCheckReady(Status error = Status::Unavailable("injected check failure"));
  // Every method returns `error` without calling the base store, as if the
  // store were unreachable, until ClearFaults().
  void FailEverything(Status error = Status::Unavailable("injected store outage"));
  void ClearFaults();

  // How many failures were injected since construction.
  uint64_t injected_count() const;

  // "faulty(<base description>)".
  std::string Describe() const override;
  Status CheckReady() override;
  Result<ObjectInfo> Put(const std::string& key, Reader& body, const PutOptions& opts) override;
  Result<std::unique_ptr<Reader>> Get(const std::string& key,
                                      std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const std::string& prefix, const std::string& page_token) override;
  Status Delete(const std::string& key) override;
  uint64_t Md5EtagLimit() const override { return base_->Md5EtagLimit(); }

 private:
  // REQUIRES: mu_ held. Counts the injection.
  Status Injected(const Status& error, const std::string& what);
  // The outage status, counted, or OK.
  Status CheckOutage(const std::string& what);

  std::unique_ptr<ObjectStore> owned_;
  ObjectStore* base_;

  mutable std::mutex mu_;
  std::optional<PutFault> put_fault_;            // guarded by mu_
  uint64_t matching_puts_ = 0;                   // guarded by mu_; since put_fault_ was set
  std::optional<GetFault> get_fault_;            // guarded by mu_
  uint64_t affected_gets_ = 0;                   // guarded by mu_; since get_fault_ was set
  std::map<std::string, Status> delete_faults_;  // guarded by mu_
  std::optional<Status> check_ready_fault_;      // guarded by mu_
  std::optional<Status> outage_;                 // guarded by mu_
  uint64_t injected_ = 0;                        // guarded by mu_
};

}  // namespace dbbackup::store
