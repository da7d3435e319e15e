// Cancelling a running operation: EngineContext::cancel is a flag another
// thread sets (the daemon, when SIGTERM's grace period runs out); the
// engine's streams read through a CancellableReader, so the next read fails
// with kCancelled and the operation unwinds as after any read error (an S3
// multipart upload is aborted, work files removed; nothing becomes visible).
//
// Thread-safety: the flag may be set from any thread; a reader is used by
// one thread.
#pragma once

#include <atomic>
#include <cstddef>

#include "common/io.h"

namespace dbbackup::engine {

class CancellableReader : public Reader {
 public:
  // `inner` must outlive this reader; `cancel` may be null (never
  // cancelled), else it must outlive the reader.
  CancellableReader(Reader& inner, const std::atomic<bool>* cancel)
      : inner_(inner), cancel_(cancel) {}
  // kCancelled once *cancel is true; otherwise inner's result.
  Result<size_t> Read(void* buf, size_t n) override;

 private:
  Reader& inner_;
  const std::atomic<bool>* cancel_;
};

}  // namespace dbbackup::engine
