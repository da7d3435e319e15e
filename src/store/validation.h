// The key and metadata rules every backend enforces, so that a key that works
// on one store works on all of them. They are the intersection of what S3 and
// a POSIX directory tree accept: LocalObjectStore maps a key to a path under
// its root, so any key that passes here stays inside that root.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "store/object_store.h"

namespace dbbackup::store {

// S3's limit on a key, in bytes.
inline constexpr size_t kMaxKeyBytes = 1024;
// A path component may be 255 bytes; the sidecar suffix must still fit.
inline constexpr size_t kMaxKeySegmentBytes = 245;
// S3's limit on user metadata (keys plus values), in bytes.
inline constexpr size_t kMaxMetadataBytes = 2048;

// Suffix of LocalObjectStore's sidecar files; no key segment may end with it.
inline constexpr std::string_view kSidecarSuffix = ".meta.json";
// Prefix of the temporary files of an unfinished Put; no key segment may
// start with it, so temporaries can never be mistaken for objects.
inline constexpr std::string_view kTempPrefix = ".dbbackup-tmp";

// OK if `key` is a usable object key: 1..kMaxKeyBytes bytes, no NUL, split on
// '/' into segments that are non-empty (so no leading, trailing or doubled
// '/'), not "." or "..", at most kMaxKeySegmentBytes long, not ending in
// kSidecarSuffix and not starting with kTempPrefix. kInvalidArgument naming
// the key and the rule otherwise.
Status ValidateKey(std::string_view key);

// OK if every metadata key is non-empty [a-z0-9-], every value is printable
// ASCII (0x20..0x7e) and the total is at most kMaxMetadataBytes;
// kInvalidArgument otherwise.
Status ValidateMetadata(const Metadata& metadata);

}  // namespace dbbackup::store
