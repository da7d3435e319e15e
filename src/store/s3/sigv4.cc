#include "store/s3/sigv4.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "common/strings.h"
#include "store/s3/crypto.h"

namespace dbbackup::store::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// SigV4 canonical header value: leading/trailing blanks removed and inner
// runs of blanks collapsed to one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string FormatTime(std::chrono::system_clock::time_point t, const char* fmt) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  return FormatTime(t, "%Y%m%dT%H%M%SZ");
}

std::string FormatDateStamp(std::chrono::system_clock::time_point t) {
  return FormatTime(t, "%Y%m%d");
}

std::string DeriveSigningKey(std::string_view secret, std::string_view date_stamp,
                             std::string_view region, std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date_stamp);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string CanonicalQueryString(const QueryList& query) {
  // Sorting the encoded forms, not the raw ones, is what AWS specifies: the
  // byte order of "%2F" and "a" differs from that of "/" and "a".
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

Signature SignV4(const SigningRequest& request, const Credentials& credentials,
                 const SigningScope& scope) {
  // Group by lower-cased name; std::map sorts names bytewise as required.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = AsciiLower(name);
    auto it = headers.find(key);
    if (it == headers.end()) {
      headers.emplace(std::move(key), CanonicalHeaderValue(value));
    } else {
      it->second += ',';
      it->second += CanonicalHeaderValue(value);
    }
  }

  Signature sig;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ':' + value + '\n';
    if (!sig.signed_headers.empty()) sig.signed_headers.push_back(';');
    sig.signed_headers += name;
  }

  sig.canonical_request = request.method + '\n' + UriEncode(request.path, true) + '\n' +
                          CanonicalQueryString(request.query) + '\n' + canonical_headers + '\n' +
                          sig.signed_headers + '\n' + request.payload_hash;

  const std::string date_stamp = FormatDateStamp(scope.time);
  const std::string credential_scope =
      date_stamp + '/' + scope.region + '/' + scope.service + "/aws4_request";
  sig.string_to_sign = std::string(kAlgorithm) + '\n' + FormatAmzDate(scope.time) + '\n' +
                       credential_scope + '\n' + Sha256Hex(sig.canonical_request);

  const std::string key =
      DeriveSigningKey(credentials.secret_access_key, date_stamp, scope.region, scope.service);
  sig.signature = HexEncode(HmacSha256(key, sig.string_to_sign));
  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' +
                      credential_scope + ", SignedHeaders=" + sig.signed_headers +
                      ", Signature=" + sig.signature;
  return sig;
}

}  // namespace dbbackup::store::s3
