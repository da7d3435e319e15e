// The S3 XML documents the client reads and writes, parsed with pugixml and
// built with proper escaping. Parsers are strict about what they need and
// ignore everything else, so they work across AWS, Ceph RGW and moto.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dbbackup::store::s3 {

// <Error><Code>..</Code><Message>..</Message>...</Error>. Ceph RGW sends an
// empty <Message>, so callers must rely on `code`.
struct S3ErrorBody {
  std::string code;
  std::string message;
  std::string region;  // <Region>, sent with wrong-region errors by AWS
};

// Returns the error if `body` is an <Error> document, nullopt otherwise
// (empty body, other XML, or not XML).
std::optional<S3ErrorBody> ParseErrorBody(std::string_view body);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // quotes stripped
  int64_t last_modified_unix = 0;
};

struct ListObjectsV2Result {
  std::vector<ListedObject> objects;
  bool is_truncated = false;
  std::string next_continuation_token;
};

// Parses a ListObjectsV2 response. kCorruption if it is not one, or if it is
// truncated without a continuation token (a client would loop forever).
Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult. kCorruption if absent.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

struct CompleteMultipartUploadResult {
  std::string etag;  // quotes stripped
};

// Parses a CompleteMultipartUpload response. S3 may answer 200 and then
// report a failure in the body, so an <Error> document is returned as
// `error` for the caller to map; anything else unparseable is kCorruption.
struct CompleteOutcome {
  std::optional<CompleteMultipartUploadResult> result;
  std::optional<S3ErrorBody> error;
};
Result<CompleteOutcome> ParseCompleteMultipartUpload(std::string_view body);

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // as returned by UploadPart, quotes included or not
};

// <CompleteMultipartUpload> body listing `parts` in the given order.
std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts);

// <CreateBucketConfiguration> for regions other than us-east-1 (which must
// send no body).
std::string BuildCreateBucketConfiguration(std::string_view region);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string XmlEscape(std::string_view s);

// Removes one pair of surrounding double quotes, if present.
std::string StripQuotes(std::string_view etag);

// "2009-10-12T17:50:30.000Z" (ISO 8601, as in listings) -> Unix seconds.
std::optional<int64_t> ParseIso8601(std::string_view s);
// "Wed, 12 Oct 2009 17:50:00 GMT" (RFC 7231, as in Last-Modified) -> Unix seconds.
std::optional<int64_t> ParseHttpDate(std::string_view s);

}  // namespace dbbackup::store::s3
