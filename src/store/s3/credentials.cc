#include "store/s3/credentials.h"

#include "common/log.h"

namespace dbbackup::store::s3 {

Result<Credentials> StaticCredentialsProvider::Get() {
  if (credentials_.access_key_id.empty() || credentials_.secret_access_key.empty()) {
    return Status::FailedPrecondition("credentials from " + source_ +
                                      " lack an access key id or secret access key");
  }
  return credentials_;
}

RefreshingCredentialsProvider::RefreshingCredentialsProvider(std::string source, Fetch fetch,
                                                             env::Clock& clock,
                                                             std::chrono::seconds refresh_before)
    : source_(std::move(source)),
      fetch_(std::move(fetch)),
      clock_(clock),
      refresh_before_(refresh_before) {}

Result<Credentials> RefreshingCredentialsProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_.Now();
  if (cached_ && !stale_ &&
      (!cached_->expiration || now + refresh_before_ < *cached_->expiration)) {
    return cached_->credentials;
  }
  Result<TemporaryCredentials> fetched = fetch_();
  if (fetched.ok()) {
    if (fetched->credentials.access_key_id.empty() ||
        fetched->credentials.secret_access_key.empty()) {
      return Status::Corruption(source_ + " returned no access key id or secret access key");
    }
    cached_ = std::move(fetched).value();
    stale_ = false;
    return cached_->credentials;
  }
  Status err = fetched.status().Annotate("cannot get credentials from " + source_);
  // Still valid (and not rejected by the server): keep using them for now.
  if (cached_ && !stale_ && cached_->expiration && now < *cached_->expiration) {
    log::Warning(err.message() + "; using the current credentials until they expire");
    return cached_->credentials;
  }
  return err;
}

void RefreshingCredentialsProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  stale_ = true;
}

std::optional<std::chrono::system_clock::time_point> RefreshingCredentialsProvider::Expiration()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_) return std::nullopt;
  return cached_->expiration;
}

}  // namespace dbbackup::store::s3
