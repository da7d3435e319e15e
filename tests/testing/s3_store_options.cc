#include "testing/s3_store_options.h"

namespace dbbackup::testing {

store::s3::S3Options S3OptionsFor(const S3Target& target, const std::string& bucket) {
  store::s3::S3Options o;
  o.endpoint = target.endpoint;
  o.allow_http = true;
  o.region = target.region;
  o.bucket = bucket;
  o.access_key_id = target.credentials.access_key;
  o.secret_access_key = target.credentials.secret_key;
  return o;
}

}  // namespace dbbackup::testing
