// Hashes and encodings the S3 protocol needs: SHA-256 (payload hashes and
// SigV4), HMAC-SHA256 (the SigV4 key chain), MD5 (Content-MD5) and base64.
// Thin wrappers over OpenSSL so the rest of the client never touches its API.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dbbackup::store::s3 {

// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
// Lower-case hex SHA-256, the form SigV4 uses everywhere.
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Raw 16-byte MD5 digest.
std::string Md5(std::string_view data);
std::string HexEncode(std::string_view bytes);  // lower case
std::string Base64Encode(std::string_view bytes);
// Standard base64 (with padding) to bytes; nullopt if `text` is not valid
// base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace dbbackup::store::s3
