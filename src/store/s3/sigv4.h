// AWS Signature Version 4, as a pure function: request description,
// credentials, scope and time in; canonical request, string to sign,
// signature and Authorization header out. No I/O, no clock, no globals, so it
// is tested byte-for-byte against AWS's published vectors (sigv4_test.cc).
//
// S3 rules, which this signer follows for every service:
// - the path is encoded once and never normalized: "a//b/./c" stays as is;
// - unreserved characters A-Z a-z 0-9 - _ . ~ are kept, every other byte
//   becomes %XX with upper-case hex; '/' is kept in the path and encoded in
//   query names and values; a space is %20, never '+'.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dbbackup::store::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged or put in messages
  // Temporary (STS) credentials only; empty otherwise.
  std::string session_token;
};

struct SigningRequest {
  std::string method;  // "GET", "PUT", ...
  // Raw, unencoded path starting with '/' (e.g. "/bucket/my key+1"). Encoded
  // once by the signer; never normalized.
  std::string path = "/";
  // Raw, unencoded query parameters in any order; a parameter without a value
  // ("?uploads") has an empty value.
  QueryList query;
  // Every header to sign, in any order and case; repeated names are joined
  // with ',' in the order given. Must include "host". The signer adds none.
  HeaderList headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
  std::chrono::system_clock::time_point time;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
  // "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request,
  // SignedHeaders=..., Signature=..." (", " separators, as AWS SDKs send).
  std::string authorization;
};

Signature SignV4(const SigningRequest& request, const Credentials& credentials,
                 const SigningScope& scope);

// Percent-encodes `s` per the rules above; `keep_slash` for paths.
std::string UriEncode(std::string_view s, bool keep_slash);

// "20130524T000000Z" (the x-amz-date format) and "20130524".
std::string FormatAmzDate(std::chrono::system_clock::time_point t);
std::string FormatDateStamp(std::chrono::system_clock::time_point t);

// The derived signing key (HMAC chain of secret, date, region, service),
// raw bytes. Exposed for tests.
std::string DeriveSigningKey(std::string_view secret, std::string_view date_stamp,
                             std::string_view region, std::string_view service);

// The canonical query string: encoded name=value pairs sorted by name, then
// value, joined with '&'. Also used to build the URL actually sent, so the
// wire and the signature can never disagree.
std::string CanonicalQueryString(const QueryList& query);

}  // namespace dbbackup::store::s3
