#include "store/s3/credentials_chain.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/strings.h"
#include "env/file_util.h"
#include "store/s3/credentials_metadata.h"
#include "store/s3/credentials_profile.h"
#include "store/s3/credentials_sts.h"
#include "store/s3/curl_transport.h"

namespace dbbackup::store::s3 {
namespace {

using ProviderPtr = std::unique_ptr<CredentialsProvider>;

std::string Get(const EnvironmentMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// `o` with every default filled in.
ChainOptions Resolve(const ChainOptions& o) {
  ChainOptions r = o;
  if (r.home.empty()) r.home = Get(r.env, "HOME");
  if (r.region.empty()) r.region = Get(r.env, "AWS_REGION");
  if (r.region.empty()) r.region = Get(r.env, "AWS_DEFAULT_REGION");
  if (r.region.empty()) r.region = "us-east-1";
  if (!r.sts_transport) {
    CurlTransportOptions t;
    t.ca_bundle = r.ca_bundle;
    r.sts_transport = std::make_shared<CurlTransport>(t);
  }
  if (!r.metadata_transport) {
    CurlTransportOptions m;
    m.connect_timeout = std::chrono::seconds(1);
    m.stall_timeout = std::chrono::seconds(1);
    m.max_idle_handles = 2;
    r.metadata_transport = std::make_shared<CurlTransport>(m);
  }
  return r;
}

std::string SessionName(env::Clock& clock) {
  return "dbbackup-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          clock.Now().time_since_epoch())
                                          .count());
}

ProviderPtr Refreshing(const ChainOptions& o, std::string source,
                       RefreshingCredentialsProvider::Fetch fetch) {
  return std::make_unique<RefreshingCredentialsProvider>(std::move(source), std::move(fetch),
                                                         *o.clock, o.refresh_before);
}

// AssumeRoleWithWebIdentity with the token read from `token_file` on every
// fetch (the platform rotates it).
ProviderPtr WebIdentityProvider(const ChainOptions& o, std::string label,
                                const std::string& token_file, AssumeRoleRequest request,
                                const StsEndpoint& endpoint) {
  std::shared_ptr<HttpTransport> transport = o.sts_transport;
  env::Clock* clock = o.clock;
  return Refreshing(
      o, std::move(label),
      [transport, clock, token_file, request, endpoint]() mutable -> Result<TemporaryCredentials> {
        Result<std::string> text = env::ReadFileToString(token_file);
        if (!text.ok()) {
          return Status::FailedPrecondition("cannot read web identity token file " + token_file +
                                            ": " + text.status().message());
        }
        std::string token(TrimWhitespace(*text));
        if (token.empty()) {
          return Status::FailedPrecondition("web identity token file " + token_file + " is empty");
        }
        if (request.session_name.empty()) request.session_name = SessionName(*clock);
        return AssumeRoleWithWebIdentity(*transport, endpoint, request, token);
      });
}

Result<ProviderPtr> ProfileProvider(const ChainOptions& o, const SharedConfig& sc,
                                    const std::string& name, std::vector<std::string>& visiting) {
  std::optional<SharedConfig::Profile> p = sc.Find(name);
  if (!p) {
    return Status::NotFound("profile '" + name + "' is not in " + sc.credentials_path + " or " +
                            sc.config_path);
  }
  const std::string where = "profile '" + name + "' in " + p->origin;
  const bool has_keys = !p->Get("aws_access_key_id").empty();
  const std::string role_arn = p->Get("role_arn");
  if (role_arn.empty()) {
    if (has_keys) {
      if (p->Get("aws_secret_access_key").empty()) {
        return Status::FailedPrecondition(where +
                                          " has aws_access_key_id but no "
                                          "aws_secret_access_key");
      }
      return ProviderPtr(std::make_unique<StaticCredentialsProvider>(
          Credentials{p->Get("aws_access_key_id"), p->Get("aws_secret_access_key"),
                      p->Get("aws_session_token")},
          where));
    }
    if (!p->Get("credential_process").empty()) {
      return Status::FailedPrecondition(
          where + " uses credential_process, which dbbackup does not support");
    }
    if (!p->Get("sso_session").empty() || !p->Get("sso_start_url").empty()) {
      return Status::FailedPrecondition(
          where +
          " uses AWS SSO, which dbbackup does not support (run `aws configure export-"
          "credentials` or use keys)");
    }
    return Status::FailedPrecondition(where +
                                      " has neither aws_access_key_id/aws_secret_access_key "
                                      "nor role_arn");
  }

  AssumeRoleRequest request;
  request.role_arn = role_arn;
  request.session_name = p->Get("role_session_name");
  request.external_id = p->Get("external_id");
  if (std::string d = p->Get("duration_seconds"); !d.empty()) {
    if (d.find_first_not_of("0123456789") != std::string::npos || d.size() > 6) {
      return Status::InvalidArgument(where + ": duration_seconds must be a number of seconds");
    }
    request.duration_seconds = std::stoi(d);
  }
  const std::string profile_region = p->Get("region");
  const StsEndpoint endpoint =
      ResolveStsEndpoint(o.env, profile_region.empty() ? o.region : profile_region);

  if (std::string token_file = p->Get("web_identity_token_file"); !token_file.empty()) {
    return WebIdentityProvider(o,
                               where + ": role " + role_arn +
                                   " via STS AssumeRoleWithWebIdentity (token file " + token_file +
                                   ")",
                               token_file, request, endpoint);
  }

  const std::string source_profile = p->Get("source_profile");
  if (source_profile.empty()) {
    if (!p->Get("credential_source").empty()) {
      return Status::FailedPrecondition(where +
                                        " uses credential_source, which dbbackup does not support "
                                        "(use source_profile)");
    }
    return Status::FailedPrecondition(where + " has role_arn but no source_profile");
  }
  std::shared_ptr<CredentialsProvider> source;
  if (source_profile == name) {
    if (!has_keys || p->Get("aws_secret_access_key").empty()) {
      return Status::FailedPrecondition(where + " is its own source_profile but has no keys");
    }
    source = std::make_shared<StaticCredentialsProvider>(
        Credentials{p->Get("aws_access_key_id"), p->Get("aws_secret_access_key"),
                    p->Get("aws_session_token")},
        where);
  } else {
    if (std::find(visiting.begin(), visiting.end(), source_profile) != visiting.end() ||
        visiting.size() > 8) {
      return Status::FailedPrecondition(where + ": source_profile '" + source_profile +
                                        "' forms a cycle");
    }
    visiting.push_back(source_profile);
    Result<ProviderPtr> src = ProfileProvider(o, sc, source_profile, visiting);
    visiting.pop_back();
    if (!src.ok())
      return src.status().Annotate(where + ": source_profile '" + source_profile + "'");
    source = std::shared_ptr<CredentialsProvider>(std::move(src).value());
  }

  std::shared_ptr<HttpTransport> transport = o.sts_transport;
  env::Clock* clock = o.clock;
  std::string label =
      where + ": role " + role_arn + " via STS AssumeRole (source: " + source->Source() + ")";
  return Refreshing(
      o, std::move(label),
      [transport, clock, source, request, endpoint]() mutable -> Result<TemporaryCredentials> {
        DBB_ASSIGN_OR_RETURN(Credentials src, source->Get());
        if (request.session_name.empty()) request.session_name = SessionName(*clock);
        return AssumeRole(*transport, endpoint, src, request, clock->Now());
      });
}

// Tries `provider`: OK with it if Get() succeeds, else its error.
Result<ProviderPtr> Prime(Result<ProviderPtr> provider) {
  if (!provider.ok()) return provider.status();
  Result<Credentials> first = (*provider)->Get();
  if (!first.ok()) return first.status();
  return provider;
}

}  // namespace

Result<ProviderPtr> NewProfileProvider(const ChainOptions& options, const std::string& profile) {
  ChainOptions o = Resolve(options);
  DBB_ASSIGN_OR_RETURN(SharedConfig sc, LoadSharedConfig(o.env, o.home));
  std::vector<std::string> visiting{profile};
  return ProfileProvider(o, sc, profile, visiting);
}

Result<ProviderPtr> DefaultChain(const ChainOptions& options) {
  const ChainOptions o = Resolve(options);
  std::vector<std::string> tried;

  // 1. Static keys from flags / environment / .env.
  if (!o.static_credentials.access_key_id.empty() ||
      !o.static_credentials.secret_access_key.empty()) {
    return Prime(ProviderPtr(
        std::make_unique<StaticCredentialsProvider>(o.static_credentials, o.static_source)));
  }
  tried.push_back("flags/environment/.env: AWS_ACCESS_KEY_ID not set");

  // 2. Shared config and credentials files.
  {
    bool explicit_profile = false;
    const std::string profile = ProfileName(o.env, &explicit_profile);
    Result<SharedConfig> sc = LoadSharedConfig(o.env, o.home);
    if (!sc.ok()) return sc.status();
    std::vector<std::string> visiting{profile};
    Result<ProviderPtr> p = ProfileProvider(o, *sc, profile, visiting);
    // A profile that only sets a region (common on EC2) is not a source.
    std::optional<SharedConfig::Profile> found = sc->Find(profile);
    const bool has_settings =
        found && std::any_of(found->values.begin(), found->values.end(), [](const auto& kv) {
          return kv.first == "aws_access_key_id" || kv.first == "role_arn" ||
                 kv.first == "credential_process" || kv.first.starts_with("sso_") ||
                 kv.first == "web_identity_token_file" || kv.first == "credential_source";
        });
    if (has_settings || (explicit_profile && !found)) {
      Result<ProviderPtr> primed = Prime(std::move(p));
      if (!primed.ok()) {
        return primed.status().Annotate(explicit_profile ? "AWS_PROFILE=" + profile
                                                         : "shared AWS config");
      }
      return primed;
    }
    tried.push_back(found ? "profile '" + profile + "': no credentials in it"
                          : p.status().message());
  }

  // 3. Web identity.
  const std::string token_file = Get(o.env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  const std::string role_arn = Get(o.env, "AWS_ROLE_ARN");
  if (!token_file.empty() || !role_arn.empty()) {
    if (token_file.empty() || role_arn.empty()) {
      return Status::FailedPrecondition(
          "web identity needs both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN; only " +
          std::string(token_file.empty() ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE") +
          " is set");
    }
    AssumeRoleRequest request;
    request.role_arn = role_arn;
    request.session_name = Get(o.env, "AWS_ROLE_SESSION_NAME");
    return Prime(WebIdentityProvider(o,
                                     "web identity: role " + role_arn +
                                         " via STS AssumeRoleWithWebIdentity (token file " +
                                         token_file + ")",
                                     token_file, request, ResolveStsEndpoint(o.env, o.region)));
  }
  tried.push_back("web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");

  // 4. Container credentials.
  Result<ContainerEndpoint> container = ResolveContainerEndpoint(o.env);
  if (container.ok()) {
    std::shared_ptr<HttpTransport> transport = o.metadata_transport;
    ContainerEndpoint ep = *container;
    return Prime(Refreshing(o, "container credentials endpoint " + UrlOrigin(ep.url),
                            [transport, ep] { return FetchContainerCredentials(*transport, ep); }));
  }
  if (container.status().code() != StatusCode::kNotFound) return container.status();
  tried.push_back("container: AWS_CONTAINER_CREDENTIALS_*_URI not set");

  // 5. EC2 instance metadata.
  if (AsciiLower(Get(o.env, "AWS_EC2_METADATA_DISABLED")) == "true") {
    tried.push_back("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
  } else {
    std::shared_ptr<HttpTransport> transport = o.metadata_transport;
    const std::string ep = ResolveImdsEndpoint(o.env);
    Result<ProviderPtr> imds = Prime(Refreshing(o, "EC2 instance metadata " + ep, [transport, ep] {
      return FetchImdsCredentials(*transport, ep);
    }));
    if (imds.ok()) return imds;
    tried.push_back(imds.status().message());
  }

  std::string m = "no AWS credentials found (tried: ";
  for (size_t i = 0; i < tried.size(); ++i) m += (i ? "; " : "") + tried[i];
  m += ")";
  return Status::FailedPrecondition(m);
}

}  // namespace dbbackup::store::s3
