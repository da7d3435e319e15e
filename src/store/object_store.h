// ObjectStore: where backups live. A small interface over opaque keys and
// byte streams; it knows nothing of SQLite, backups or retention. Backends:
// LocalObjectStore (a directory), MemObjectStore (tests), S3ObjectStore.
//
// Contract, identical in every backend (the suite in tests/testing/
// store_contract.h checks it; src/store/store_contract_test.cc runs it):
// - Put is atomic: the object is wholly visible with its metadata, or absent.
//   A crash or failure mid-Put never leaves a partial object that Head, Get or
//   List show.
// - A missing object is always kNotFound (Head, Get). Delete of a missing key
//   is OK.
// - List returns keys in lexicographic (byte) order, with sizes; metadata is
//   only filled in by Head.
// - Metadata keys are lower-case ASCII ([a-z0-9-]); values are printable
//   ASCII. Backends may reject anything else with kInvalidArgument.
//
// Thread-safety: all methods may be called concurrently from several threads.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/io.h"
#include "common/status.h"

namespace dbbackup::store {

using Metadata = std::map<std::string, std::string>;

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Backend-defined content tag. S3: the ETag without quotes (hex MD5 for a
  // single unencrypted PUT, "<md5-of-md5s>-N" for multipart). Local/mem:
  // hex MD5 of the content.
  std::string etag;
  int64_t last_modified_unix = 0;
  Metadata metadata;  // filled by Head and Put, empty in List
};

struct PutOptions {
  Metadata metadata;
  // Default: "application/octet-stream".
  std::string content_type = "application/octet-stream";
  // Fail with kAlreadyExists instead of overwriting an existing object.
  // Best effort on S3 servers that ignore If-None-Match. Default: false.
  bool if_none_match = false;
  // The body's size when the caller knows it. Lets S3 choose parts large
  // enough for any object up to 5 TiB within 10,000 parts; a wrong hint is
  // not an error (the body decides). Default: unset.
  std::optional<uint64_t> size_hint;
};

struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;  // to end of object when absent
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_page_token;  // empty on the last page
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Human-readable location, e.g. "s3://bucket" or "file:///var/backups".
  virtual std::string Describe() const = 0;

  // Checks the store is reachable and usable (bucket exists, directory can be
  // created, credentials accepted). Returns kNotFound naming the bucket or
  // directory, kPermissionDenied naming the action, kUnavailable when the
  // server cannot be reached.
  virtual Status CheckReady() = 0;

  // Stores the whole of `body` under `key`. Returns the stored object's info
  // (size, etag, metadata). kAlreadyExists if opts.if_none_match and the key
  // exists. On failure nothing is visible at `key` (a previous object there
  // stays as it was).
  virtual Result<ObjectInfo> Put(const std::string& key, Reader& body, const PutOptions& opts) = 0;

  // Opens the object for streaming. kNotFound if absent. The reader fails
  // with kCorruption or kIOError if the stream is cut short.
  virtual Result<std::unique_ptr<Reader>> Get(const std::string& key,
                                              std::optional<ByteRange> range = std::nullopt) = 0;

  // Size, etag, last-modified and metadata. kNotFound if absent.
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;

  // One page of the keys that start with `prefix`, in byte order.
  // `page_token` is empty for the first page.
  virtual Result<ListPage> List(const std::string& prefix, const std::string& page_token) = 0;

  // Removes `key`. OK if it did not exist.
  virtual Status Delete(const std::string& key) = 0;

  // The largest object whose etag after Put() is the hex MD5 of its content;
  // 0 if none. A caller that records an MD5 only to compare it with the etag
  // later need not hash larger objects.
  // Default: no limit (the local and in-memory stores).
  virtual uint64_t Md5EtagLimit() const { return std::numeric_limits<uint64_t>::max(); }
};

// Lists every key under `prefix`, following pages.
Result<std::vector<ObjectInfo>> ListAll(ObjectStore& store, const std::string& prefix);

}  // namespace dbbackup::store
