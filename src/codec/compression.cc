#include "codec/compression.h"

#include <zstd.h>

#include <string>

#include "codec/stages.h"

namespace dbbackup::codec {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      return "none";
  }
  return "none";
}

Result<Compression> ParseCompression(std::string_view name) {
  for (Compression c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    if (name == CompressionName(c)) return c;
  }
  return Status::InvalidArgument("unknown compression: " + std::string(name) +
                                 " (expected gzip, zstd or none)");
}

std::string_view CompressionExtension(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return ".gz";
    case Compression::kZstd:
      return ".zst";
    case Compression::kNone:
      return "";
  }
  return "";
}

std::string_view CompressionContentType(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "application/gzip";
    case Compression::kZstd:
      return "application/zstd";
    case Compression::kNone:
      return "application/octet-stream";
  }
  return "application/octet-stream";
}

int DefaultLevel(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return 6;
    case Compression::kZstd:
      return 1;
    case Compression::kNone:
      return 0;
  }
  return 0;
}

Status ValidateLevel(Compression c, int level) {
  if (level == kDefaultLevel || c == Compression::kNone) return Status::OK();
  const int max = c == Compression::kGzip ? 9 : ZSTD_maxCLevel();
  if (level >= 1 && level <= max) return Status::OK();
  return Status::InvalidArgument("invalid " + std::string(CompressionName(c)) +
                                 " level: " + std::to_string(level) + " (expected 1 to " +
                                 std::to_string(max) + ")");
}

std::unique_ptr<Reader> NewCompressingReader(Reader& source, Compression c,
                                             const CompressOptions& opts) {
  Status valid = ValidateLevel(c, opts.level);
  if (!valid.ok()) return std::make_unique<internal::ErrorReader>(valid);
  if (opts.threads < 1) {
    return std::make_unique<internal::ErrorReader>(Status::InvalidArgument(
        "invalid compression thread count: " + std::to_string(opts.threads)));
  }
  const int level = opts.level == kDefaultLevel ? DefaultLevel(c) : opts.level;
  switch (c) {
    case Compression::kGzip:
      if (opts.threads > 1) {
        return internal::NewParallelGzipCompressor(source, level, opts.threads, opts);
      }
      return internal::NewGzipCompressor(source, level);
    case Compression::kZstd:
      return internal::NewZstdCompressor(source, level, opts.threads);
    case Compression::kNone:
      break;
  }
  return std::make_unique<internal::PassThroughReader>(source);
}

std::unique_ptr<Reader> NewCompressingReader(Reader& source, Compression c, int level) {
  CompressOptions opts;
  opts.level = level;
  return NewCompressingReader(source, c, opts);
}

std::unique_ptr<Reader> NewDecompressingReader(Reader& source, Compression c) {
  switch (c) {
    case Compression::kGzip:
      return internal::NewGzipDecompressor(source);
    case Compression::kZstd:
      return internal::NewZstdDecompressor(source);
    case Compression::kNone:
      break;
  }
  return std::make_unique<internal::PassThroughReader>(source);
}

}  // namespace dbbackup::codec
