#include "store/s3/credentials_sts.h"

#include <pugixml.hpp>

#include "store/s3/crypto.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {
namespace {

constexpr std::string_view kStsVersion = "2011-06-15";

std::string Get(const EnvironmentMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

// The host[:port] of "scheme://host[:port][/...]".
std::string HostOf(std::string_view url) {
  size_t sep = url.find("://");
  std::string_view rest = sep == std::string_view::npos ? url : url.substr(sep + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

void AddParam(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  body += UriEncode(name, false);
  body += '=';
  body += UriEncode(value, false);
}

// Removes every occurrence of each (non-empty) secret from `message`, in
// case a server echoes one back.
std::string Redact(std::string message, std::initializer_list<std::string_view> secrets) {
  for (std::string_view s : secrets) {
    if (s.size() < 4) continue;
    for (size_t p = message.find(s); p != std::string::npos; p = message.find(s, p)) {
      message.replace(p, s.size(), "<redacted>");
    }
  }
  return message;
}

Result<TemporaryCredentials> Exchange(HttpTransport& transport, HttpRequest request,
                                      std::string body, std::string_view action,
                                      const StsEndpoint& endpoint, std::string_view role_arn,
                                      std::initializer_list<std::string_view> secrets) {
  StringReader reader(body);
  request.body = &reader;
  request.body_length = body.size();
  Result<HttpResponse> res = SendAndReadAll(transport, request, 1 << 20);
  if (!res.ok()) {
    return Status(res.status().code(),
                  "STS " + std::string(action) + " of " + std::string(role_arn) + " at " +
                      endpoint.url + ": " + Redact(res.status().message(), secrets),
                  res.status().retryable());
  }
  if (res->status < 200 || res->status >= 300) {
    Status s = MapStsError(res->status, res->body, action, role_arn);
    return Status(s.code(), Redact(s.message(), secrets) + " (STS endpoint " + endpoint.url + ")",
                  s.retryable());
  }
  return ParseStsCredentials(res->body, action);
}

}  // namespace

StsEndpoint ResolveStsEndpoint(const EnvironmentMap& env, const std::string& region) {
  StsEndpoint ep;
  ep.region = region.empty() ? "us-east-1" : region;
  ep.url = Get(env, "AWS_ENDPOINT_URL_STS");
  if (ep.url.empty()) ep.url = Get(env, "AWS_ENDPOINT_URL");
  if (ep.url.empty()) ep.url = "https://sts." + ep.region + ".amazonaws.com";
  while (!ep.url.empty() && ep.url.back() == '/') ep.url.pop_back();
  return ep;
}

std::string AssumeRoleBody(const AssumeRoleRequest& r) {
  std::string body;
  AddParam(body, "Action", "AssumeRole");
  AddParam(body, "Version", kStsVersion);
  AddParam(body, "RoleArn", r.role_arn);
  AddParam(body, "RoleSessionName", r.session_name);
  if (!r.external_id.empty()) AddParam(body, "ExternalId", r.external_id);
  if (r.duration_seconds > 0) AddParam(body, "DurationSeconds", std::to_string(r.duration_seconds));
  return body;
}

Result<TemporaryCredentials> AssumeRole(HttpTransport& transport, const StsEndpoint& endpoint,
                                        const Credentials& source, const AssumeRoleRequest& r,
                                        std::chrono::system_clock::time_point now) {
  std::string body = AssumeRoleBody(r);
  SigningRequest s;
  s.method = "POST";
  s.path = "/";
  s.payload_hash = Sha256Hex(body);
  s.headers.emplace_back("host", HostOf(endpoint.url));
  s.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=utf-8");
  s.headers.emplace_back("x-amz-date", FormatAmzDate(now));
  if (!source.session_token.empty()) {
    s.headers.emplace_back("x-amz-security-token", source.session_token);
  }
  Signature sig = SignV4(s, source, SigningScope{endpoint.region, "sts", now});
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint.url + "/";
  req.headers = std::move(s.headers);
  req.headers.emplace_back("Authorization", std::move(sig.authorization));
  return Exchange(transport, std::move(req), std::move(body), "AssumeRole", endpoint, r.role_arn,
                  {source.secret_access_key, source.session_token});
}

Result<TemporaryCredentials> AssumeRoleWithWebIdentity(HttpTransport& transport,
                                                       const StsEndpoint& endpoint,
                                                       const AssumeRoleRequest& r,
                                                       std::string_view token) {
  std::string body;
  AddParam(body, "Action", "AssumeRoleWithWebIdentity");
  AddParam(body, "Version", kStsVersion);
  AddParam(body, "RoleArn", r.role_arn);
  AddParam(body, "RoleSessionName", r.session_name);
  AddParam(body, "WebIdentityToken", token);
  if (r.duration_seconds > 0) AddParam(body, "DurationSeconds", std::to_string(r.duration_seconds));
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint.url + "/";
  req.headers.emplace_back("host", HostOf(endpoint.url));
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=utf-8");
  return Exchange(transport, std::move(req), std::move(body), "AssumeRoleWithWebIdentity", endpoint,
                  r.role_arn, {token});
}

Result<TemporaryCredentials> ParseStsCredentials(std::string_view body, std::string_view action) {
  const std::string what = "STS " + std::string(action) + " response";
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) {
    return Status::Corruption(what + " is not XML");
  }
  const std::string result_name = std::string(action) + "Result";
  pugi::xml_node creds = doc.document_element().child(result_name.c_str()).child("Credentials");
  if (!creds) return Status::Corruption(what + " has no " + result_name + "/Credentials");
  TemporaryCredentials out;
  out.credentials.access_key_id = creds.child("AccessKeyId").text().as_string();
  out.credentials.secret_access_key = creds.child("SecretAccessKey").text().as_string();
  out.credentials.session_token = creds.child("SessionToken").text().as_string();
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return Status::Corruption(what + " lacks AccessKeyId or SecretAccessKey");
  }
  std::string expiration = creds.child("Expiration").text().as_string();
  if (!expiration.empty()) {
    std::optional<int64_t> t = ParseIso8601(expiration);
    if (!t) return Status::Corruption(what + " has a bad Expiration '" + OneLine(expiration) + "'");
    out.expiration = std::chrono::system_clock::time_point(std::chrono::seconds(*t));
  }
  return out;
}

Status MapStsError(int http_status, std::string_view body, std::string_view action,
                   std::string_view role_arn) {
  std::string code;
  std::string message;
  pugi::xml_document doc;
  if (!body.empty() && doc.load_buffer(body.data(), body.size())) {
    // AWS: <ErrorResponse><Error>; moto: <ErrorResponse><Errors><Error>.
    pugi::xml_node err = doc.find_node(
        [](const pugi::xml_node& n) { return std::string_view(n.name()) == "Error"; });
    code = err.child("Code").text().as_string();
    message = err.child("Message").text().as_string();
  }
  std::string m = "STS " + std::string(action) + " of " + std::string(role_arn) + " failed: " +
                  (code.empty() ? "HTTP " + std::to_string(http_status)
                                : code + " (HTTP " + std::to_string(http_status) + ")");
  if (!message.empty()) m += ": " + OneLine(message);
  if (code == "Throttling" || code == "ThrottlingException" || code == "ServiceUnavailable" ||
      code == "InternalFailure" || code == "IDPCommunicationError" || http_status >= 500) {
    return Status(StatusCode::kUnavailable, m, true);
  }
  if (code == "ExpiredTokenException" || code == "ExpiredToken") {
    return Status::PermissionDenied(m + " (the source credentials or token have expired)");
  }
  if (http_status == 400 && (code == "ValidationError" || code == "MalformedPolicyDocument")) {
    return Status::InvalidArgument(m);
  }
  if (http_status == 403 || http_status == 400 || http_status == 401) {
    return Status::PermissionDenied(m);
  }
  return Status::IOError(m);
}

}  // namespace dbbackup::store::s3
