// Credentials providers: where the keys that sign S3 requests come from.
//
// A CredentialsProvider hands out the current credentials. Static keys
// (flags, environment, .env, a profile's keys) never change; temporary ones
// (STS, container, EC2 instance metadata) are cached and fetched anew a few
// minutes before they expire, so a long-running daemon keeps working. The
// S3 client asks its provider on every request (S3Options::credentials).
//
// Source() names where the credentials came from ("environment",
// "profile 'prod' (role arn:aws:iam::1:role/x via STS AssumeRole)"), for
// `dbbackup` to tell the user. Neither Source() nor any error message of
// these classes ever contains a secret access key or session token.
//
// The default chain (DefaultChain, credentials_chain.h) tries the sources in
// the order of the AWS SDKs.
//
// Thread-safety: every method of every provider may be called concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "env/clock.h"
#include "store/s3/sigv4.h"

namespace dbbackup::store::s3 {

// The process environment, passed in so providers never call getenv.
using EnvironmentMap = std::map<std::string, std::string>;

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  // The credentials to sign with now. Temporary credentials are refreshed
  // when they are within the provider's refresh window of expiring.
  // Errors: kUnavailable (retryable) when the source cannot be reached,
  // kPermissionDenied when it refuses, kCorruption for an unreadable answer,
  // kFailedPrecondition when the source is misconfigured. If a refresh fails
  // while the cached credentials are still valid, those are returned.
  virtual Result<Credentials> Get() = 0;

  // Marks the cached credentials stale so the next Get() fetches anew (the
  // server answered ExpiredToken). No-op for static credentials.
  virtual void Invalidate() {}

  // Where the credentials come from, for messages. Never a secret.
  virtual std::string Source() const = 0;
};

// Fixed keys: flags, environment, .env, or a profile's keys.
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  // `source` labels them ("flags", "environment", ".env file ./.env").
  StaticCredentialsProvider(Credentials credentials, std::string source)
      : credentials_(std::move(credentials)), source_(std::move(source)) {}

  // Returns the keys; kFailedPrecondition if the key id or secret is empty.
  Result<Credentials> Get() override;
  std::string Source() const override { return source_; }

 private:
  const Credentials credentials_;
  const std::string source_;
};

// Credentials with their expiry, as temporary-credential sources return them.
struct TemporaryCredentials {
  Credentials credentials;
  // nullopt: does not expire.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Caches what `fetch` returns and calls it again once the cached credentials
// are within `refresh_before` of their expiration (or after Invalidate()).
// A failed refresh while the cached credentials have not yet expired returns
// the cached ones (and is retried on the next Get()); after expiry it
// returns the fetch error. Concurrent Get() calls wait for one fetch.
class RefreshingCredentialsProvider : public CredentialsProvider {
 public:
  using Fetch = std::function<Result<TemporaryCredentials>()>;

  // Default refresh window, as the AWS SDKs use.
  static constexpr std::chrono::seconds kDefaultRefreshBefore{300};

  // `clock` must outlive this. `fetch` must be thread-compatible (it is
  // called under this provider's lock) and its errors must hold no secrets.
  RefreshingCredentialsProvider(std::string source, Fetch fetch, env::Clock& clock,
                                std::chrono::seconds refresh_before = kDefaultRefreshBefore);

  Result<Credentials> Get() override;
  void Invalidate() override;
  std::string Source() const override { return source_; }

  // Expiry of the cached credentials (nullopt if none are cached or they do
  // not expire). For tests and diagnostics.
  std::optional<std::chrono::system_clock::time_point> Expiration() const;

 private:
  const std::string source_;
  const Fetch fetch_;
  env::Clock& clock_;
  const std::chrono::seconds refresh_before_;
  mutable std::mutex mu_;
  std::optional<TemporaryCredentials> cached_;  // guarded by mu_
  bool stale_ = false;                          // guarded by mu_
};

}  // namespace dbbackup::store::s3
