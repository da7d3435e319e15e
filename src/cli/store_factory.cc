#include "cli/store_factory.h"

#include "common/log.h"
#include "store/local_store.h"
#include "store/s3/s3_store.h"

namespace dbbackup::cli {

Result<std::unique_ptr<store::ObjectStore>> MakeStore(const Config& config, env::Clock& clock) {
  if (config.LocalMode()) {
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
  store::s3::S3Options opts;
  opts.endpoint = config.endpoint;
  // A trailing '/' is common in copied endpoint URLs and means nothing.
  while (!opts.endpoint.empty() && opts.endpoint.back() == '/') opts.endpoint.pop_back();
  opts.region = config.region;
  opts.bucket = config.bucket;
  opts.force_path_style = config.force_path_style;
  opts.access_key_id = config.access_key_id;
  opts.secret_access_key = config.secret_access_key;
  opts.session_token = config.session_token;
  opts.sse = config.sse;
  opts.sse_kms_key_id = config.sse_kms_key_id;
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
  DBB_ASSIGN_OR_RETURN(auto s3, store::NewS3ObjectStore(std::move(opts), clock));
  return std::unique_ptr<store::ObjectStore>(std::move(s3));
}

}  // namespace dbbackup::cli
