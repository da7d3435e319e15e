#include "store/s3/credentials_metadata.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "env/file_util.h"
#include "store/s3/xml.h"

namespace dbbackup::store::s3 {
namespace {

std::string Get(const EnvironmentMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// Host of "scheme://host[:port]/..." without brackets or port.
std::string HostOnly(std::string_view url) {
  size_t sep = url.find("://");
  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with("[")) return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.rfind(':')));
}

bool IsAllowedHttpHost(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

Status HttpStatusError(int status, const std::string& what) {
  std::string m = what + " answered HTTP " + std::to_string(status);
  if (status >= 500) return Status(StatusCode::kUnavailable, m, true);
  if (status == 401 || status == 403) return Status::PermissionDenied(m);
  if (status == 404) return Status::NotFound(m);
  return Status::IOError(m);
}

Result<HttpResponse> Fetch(HttpTransport& transport, HttpRequest req, const std::string& what) {
  Result<HttpResponse> res = SendAndReadAll(transport, req, 64 << 10);
  if (!res.ok()) return res.status().Annotate(what);
  if (res->status < 200 || res->status >= 300) return HttpStatusError(res->status, what);
  return res;
}

}  // namespace

Result<ContainerEndpoint> ResolveContainerEndpoint(const EnvironmentMap& env) {
  ContainerEndpoint ep;
  const std::string relative = Get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full = Get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative.empty()) {
    ep.url =
        std::string(kContainerCredentialsHost) + (relative.starts_with("/") ? "" : "/") + relative;
  } else if (!full.empty()) {
    if (full.starts_with("https://")) {
      ep.url = full;
    } else if (full.starts_with("http://")) {
      if (!IsAllowedHttpHost(HostOnly(full))) {
        return Status::InvalidArgument(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI '" + full +
            "' uses http to a host other than loopback or 169.254.170.2/.23");
      }
      ep.url = full;
    } else {
      return Status::InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI '" + full +
                                     "' must start with http:// or https://");
    }
  } else {
    return Status::NotFound(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
  }
  ep.token_file = Get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  ep.token = Get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  return ep;
}

Result<TemporaryCredentials> FetchContainerCredentials(HttpTransport& transport,
                                                       const ContainerEndpoint& endpoint) {
  const std::string what = "container credentials endpoint " + UrlOrigin(endpoint.url);
  std::string token = endpoint.token;
  if (!endpoint.token_file.empty()) {
    Result<std::string> text = env::ReadFileToString(endpoint.token_file);
    if (!text.ok()) {
      return Status::IOError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                             endpoint.token_file + ": " + text.status().message());
    }
    token = TrimWhitespace(*text);
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument("the container authorization token contains a line break");
  }
  HttpRequest req;
  req.method = "GET";
  req.url = endpoint.url;
  req.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  DBB_ASSIGN_OR_RETURN(HttpResponse res, Fetch(transport, std::move(req), what));
  return ParseCredentialsJson(res.body, what);
}

std::string ResolveImdsEndpoint(const EnvironmentMap& env) {
  std::string ep = Get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (ep.empty()) ep = std::string(kImdsEndpoint);
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  return ep;
}

Result<TemporaryCredentials> FetchImdsCredentials(HttpTransport& transport,
                                                  const std::string& endpoint) {
  const std::string what = "EC2 instance metadata " + endpoint;
  HttpRequest token_req;
  token_req.method = "PUT";
  token_req.url = endpoint + "/latest/api/token";
  token_req.headers.emplace_back("x-aws-ec2-metadata-token-ttl-seconds", "21600");
  DBB_ASSIGN_OR_RETURN(HttpResponse token_res,
                       Fetch(transport, std::move(token_req), what + " (token)"));
  const std::string token(TrimWhitespace(token_res.body));
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    return Status::Corruption(what + " returned an unusable IMDSv2 token");
  }

  const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
  HttpRequest role_req;
  role_req.method = "GET";
  role_req.url = base;
  role_req.headers.emplace_back("x-aws-ec2-metadata-token", token);
  Result<HttpResponse> role_res = Fetch(transport, std::move(role_req), what);
  if (!role_res.ok()) {
    if (role_res.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(what + ": the instance has no IAM role (instance profile)");
    }
    return role_res.status();
  }
  std::string role(TrimWhitespace(role_res->body));
  role = role.substr(0, role.find('\n'));
  role = std::string(TrimWhitespace(role));
  if (role.empty()) return Status::NotFound(what + ": the instance has no IAM role");
  if (role.find_first_of("/?#% ") != std::string::npos) {
    return Status::Corruption(what + " returned a bad role name");
  }

  HttpRequest cred_req;
  cred_req.method = "GET";
  cred_req.url = base + role;
  cred_req.headers.emplace_back("x-aws-ec2-metadata-token", token);
  DBB_ASSIGN_OR_RETURN(HttpResponse cred_res,
                       Fetch(transport, std::move(cred_req), what + " (role " + role + ")"));
  return ParseCredentialsJson(cred_res.body, what + " (role " + role + ")");
}

Result<TemporaryCredentials> ParseCredentialsJson(std::string_view body, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption(std::string(what) + " did not answer a JSON object");
  }
  auto str = [&j](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  const std::string code = str("Code");
  if (!code.empty() && code != "Success") {
    return Status::Corruption(std::string(what) + " answered Code " + code.substr(0, 64));
  }
  TemporaryCredentials out;
  out.credentials.access_key_id = str("AccessKeyId");
  out.credentials.secret_access_key = str("SecretAccessKey");
  out.credentials.session_token = str("Token");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return Status::Corruption(std::string(what) + " answered no AccessKeyId or SecretAccessKey");
  }
  const std::string expiration = str("Expiration");
  if (!expiration.empty()) {
    std::optional<int64_t> t = ParseIso8601(expiration);
    if (!t) return Status::Corruption(std::string(what) + " answered a bad Expiration");
    out.expiration = std::chrono::system_clock::time_point(std::chrono::seconds(*t));
  }
  return out;
}

}  // namespace dbbackup::store::s3
