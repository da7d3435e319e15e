#include "common/io.h"

#include <cstring>
#include <vector>

namespace dbbackup {

Result<size_t> ReadFull(Reader& r, void* buf, size_t n) {
  size_t got = 0;
  auto* p = static_cast<char*>(buf);
  while (got < n) {
    DBB_ASSIGN_OR_RETURN(size_t k, r.Read(p + got, n - got));
    if (k == 0) break;
    got += k;
  }
  return got;
}

Result<uint64_t> CopyStream(Reader& r, Writer& w, size_t buffer_size) {
  std::vector<char> buf(buffer_size);
  uint64_t total = 0;
  for (;;) {
    DBB_ASSIGN_OR_RETURN(size_t k, r.Read(buf.data(), buf.size()));
    if (k == 0) return total;
    DBB_RETURN_IF_ERROR(w.Write(buf.data(), k));
    total += k;
  }
}

Result<std::string> ReadAll(Reader& r) {
  std::string out;
  StringWriter w(&out);
  DBB_ASSIGN_OR_RETURN(uint64_t n, CopyStream(r, w, 64 * 1024));
  (void)n;
  return out;
}

Result<size_t> StringReader::Read(void* buf, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

Status StringWriter::Write(const void* data, size_t n) {
  out_->append(static_cast<const char*>(data), n);
  return Status::OK();
}

Result<size_t> CountingReader::Read(void* buf, size_t n) {
  DBB_ASSIGN_OR_RETURN(size_t k, inner_.Read(buf, n));
  count_ += k;
  if (k > 0 && on_bytes_) on_bytes_(count_);
  return k;
}

}  // namespace dbbackup
