// Server-side encryption headers (S3Options::sse): SSE-S3 ("AES256"),
// SSE-KMS ("aws:kms" with an optional key id) and SSE-C ("SSE-C": a 32-byte
// customer key that S3 uses and forgets; the same key must be sent to read
// the object back). Which request carries which header:
//
//   request                          AES256 / aws:kms   SSE-C
//   PutObject, CreateMultipartUpload yes                yes
//   UploadPart, GetObject, HeadObject no                yes
//   everything else                  no                 no
//
// The customer key travels only in request headers (over https in real use);
// it is never logged or put in an error message.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "common/status.h"
#include "store/s3/s3_options.h"
#include "store/s3/sigv4.h"

namespace dbbackup::store::s3 {

inline constexpr size_t kSseCustomerKeySize = 32;

// kInvalidArgument naming the bad field: an unknown mode, a KMS key id
// without aws:kms, SSE-C without a 32-byte key or a key without SSE-C.
Status ValidateSseOptions(const S3Options& options);

// Headers for a request that writes an object (PutObject,
// CreateMultipartUpload).
HeaderList SseWriteHeaders(const S3Options& options);

// Headers for a request that reads an object or uploads a part of it
// (GetObject, HeadObject, UploadPart): the SSE-C triple, else none.
HeaderList SseCustomerHeaders(const S3Options& options);

// A failed read (HeadObject/GetObject) of an object that may be
// SSE-C-encrypted, with what to check added: S3 answers 400 when the key is
// missing (or, on some servers, wrong) and 403 when it is wrong. Other
// failures are returned unchanged.
Status ExplainSseReadError(const S3Options& options, const Status& failure);

// Reads an SSE-C key file: exactly 32 raw bytes, or their base64 (44
// characters; surrounding whitespace ignored). kInvalidArgument names the
// file and what is wrong, never its content; kNotFound/kIOError when it
// cannot be read.
Result<std::string> ReadSseCustomerKeyFile(const std::string& path);

}  // namespace dbbackup::store::s3
