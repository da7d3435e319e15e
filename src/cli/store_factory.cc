#include "cli/store_factory.h"

#include "common/log.h"
#include "store/local_store.h"
#include "store/s3/credentials_chain.h"
#include "store/s3/s3_store.h"
#include "store/s3/sse.h"

namespace dbbackup::cli {
namespace {

Result<std::unique_ptr<store::ObjectStore>> MakeLocalStore(const Config& config,
                                                           env::Clock& clock) {
  store::LocalStoreOptions opts;
  opts.root = config.local_dir;
  opts.clock = &clock;
  DBB_ASSIGN_OR_RETURN(auto local, store::LocalObjectStore::Open(opts));
  // Temporaries of Puts killed mid-write. A live Put keeps touching its
  // file, so an hour-old one belongs to nobody.
  auto removed = local->RemoveStaleTemporaries(std::chrono::hours(1));
  if (removed.ok() && *removed > 0) {
    log::Info("removed " + std::to_string(*removed) + " unfinished upload(s) from " +
              local->Describe());
  }
  return std::unique_ptr<store::ObjectStore>(std::move(local));
}

// The first source of the chain that has credentials.
Result<std::shared_ptr<store::s3::CredentialsProvider>> ResolveCredentials(const Config& config,
                                                                           env::Clock& clock) {
  store::s3::ChainOptions chain;
  chain.env = config.chain_env;
  chain.static_credentials = {config.access_key_id, config.secret_access_key, config.session_token};
  if (!config.credential_source.empty()) chain.static_source = config.credential_source;
  chain.region = config.region;
  chain.clock = &clock;
  chain.ca_bundle = config.ca_bundle;
  Result<std::unique_ptr<store::s3::CredentialsProvider>> provider = store::s3::DefaultChain(chain);
  if (provider.ok()) return std::shared_ptr<store::s3::CredentialsProvider>(std::move(*provider));
  const Status& s = provider.status();
  if (s.code() == StatusCode::kFailedPrecondition &&
      s.message().starts_with("no AWS credentials found")) {
    return Status::InvalidArgument(
        "S3_BACKUP_BUCKET is set but " + s.message() +
        "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or unset "
        "S3_BACKUP_BUCKET for local mode)");
  }
  return s.Annotate("AWS credentials");
}

}  // namespace

std::string MaskKeyId(std::string_view key_id) {
  if (key_id.size() < 12) return "****";
  return std::string(key_id.substr(0, 4)) + "..." + std::string(key_id.substr(key_id.size() - 4));
}

std::string DescribeCredentials(const CredentialsInfo& credentials) {
  return "credentials: " + credentials.source + " (access key id " + credentials.masked_key_id +
         ")";
}

Result<std::unique_ptr<store::ObjectStore>> MakeStore(const Config& config, env::Clock& clock,
                                                      CredentialsInfo* credentials) {
  if (config.LocalMode()) return MakeLocalStore(config, clock);
  store::s3::S3Options opts;
  opts.endpoint = config.endpoint;
  // A trailing '/' is common in copied endpoint URLs and means nothing.
  while (!opts.endpoint.empty() && opts.endpoint.back() == '/') opts.endpoint.pop_back();
  opts.region = config.region;
  opts.bucket = config.bucket;
  opts.force_path_style = config.force_path_style;
  opts.sse = config.sse;
  opts.sse_kms_key_id = config.sse_kms_key_id;
  if (!config.sse_customer_key_file.empty()) {
    Result<std::string> key = store::s3::ReadSseCustomerKeyFile(config.sse_customer_key_file);
    if (!key.ok()) return Status::InvalidArgument(key.status().message());
    opts.sse_customer_key = std::move(key).value();
  }
  opts.ca_bundle = config.ca_bundle;
  opts.unsigned_payload = config.unsigned_payload;
  if (config.s3_max_attempts > 0) opts.max_attempts = config.s3_max_attempts;
  if (config.s3_connect_timeout_s > 0) {
    opts.connect_timeout = std::chrono::seconds(config.s3_connect_timeout_s);
  }
  if (config.s3_stall_timeout_s > 0) {
    opts.stall_timeout = std::chrono::seconds(config.s3_stall_timeout_s);
  }
  // Plain http is the user's explicit choice of endpoint (a local MinIO or
  // test server); AWS itself is always https.
  opts.allow_http = !config.endpoint.empty();
  DBB_ASSIGN_OR_RETURN(opts.credentials, ResolveCredentials(config, clock));
  if (credentials != nullptr) {
    credentials->source = opts.credentials->Source();
    Result<store::s3::Credentials> now = opts.credentials->Get();  // cached by the chain
    credentials->masked_key_id = now.ok() ? MaskKeyId(now->access_key_id) : "";
  }
  DBB_ASSIGN_OR_RETURN(auto s3, store::NewS3ObjectStore(std::move(opts), clock));
  return std::unique_ptr<store::ObjectStore>(std::move(s3));
}

}  // namespace dbbackup::cli
