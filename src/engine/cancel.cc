#include "engine/cancel.h"

namespace dbbackup::engine {

Result<size_t> CancellableReader::Read(void* buf, size_t n) {
  if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
    return Status::Cancelled("cancelled: the daemon is shutting down");
  }
  return inner_.Read(buf, n);
}

}  // namespace dbbackup::engine
