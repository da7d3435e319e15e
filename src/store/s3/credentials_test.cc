// Static and refreshing providers on FakeClock, and the S3Client hook: every
// request signed with the provider's current credentials, ExpiredToken
// answered by one forced refresh.
#include "store/s3/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/s3/fake_transport.h"
#include "store/s3/s3_client.h"

namespace dbbackup::store::s3 {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kSecret[] = "SecretThatMustNeverAppearAnywhere";
constexpr char kToken[] = "SessionTokenThatMustNeverAppear";

const auto kStart = std::chrono::system_clock::from_time_t(1700000000);

TEST(StaticCredentialsProviderTest, ReturnsKeysAndNamesSource) {
  StaticCredentialsProvider p(Credentials{"AKID", kSecret, ""}, "environment");
  Result<Credentials> c = p.Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(p.Source(), "environment");
}

TEST(StaticCredentialsProviderTest, MissingSecretIsFailedPreconditionWithoutKeys) {
  StaticCredentialsProvider p(Credentials{"AKID", "", kToken}, "flags");
  Result<Credentials> c = p.Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("flags"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kToken), std::string::npos);
}

// A fetch that hands out "AKID<n>" expiring `lifetime` after the clock's now.
struct CountingFetch {
  env::FakeClock* clock;
  std::chrono::seconds lifetime{3600};
  std::atomic<int> calls{0};
  Status fail;  // when not OK, returned instead

  RefreshingCredentialsProvider::Fetch Fn() {
    return [this]() -> Result<TemporaryCredentials> {
      int n = ++calls;
      if (!fail.ok()) return fail;
      return TemporaryCredentials{Credentials{"AKID" + std::to_string(n), kSecret, kToken},
                                  clock->Now() + lifetime};
    };
  }
};

TEST(RefreshingCredentialsProviderTest, CachesUntilTheRefreshWindow) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("test source", fetch.Fn(), clock, minutes(5));
  EXPECT_EQ(p.Get()->access_key_id, "AKID1");
  clock.Advance(minutes(50));
  EXPECT_EQ(p.Get()->access_key_id, "AKID1");
  EXPECT_EQ(fetch.calls, 1);
  clock.Advance(minutes(5) + seconds(1));  // 4m59s before expiry: inside the window
  EXPECT_EQ(p.Get()->access_key_id, "AKID2");
  EXPECT_EQ(fetch.calls, 2);
  EXPECT_EQ(*p.Expiration(), clock.Now() + seconds(3600));
  EXPECT_EQ(p.Source(), "test source");
}

TEST(RefreshingCredentialsProviderTest, CredentialsWithoutExpirationAreFetchedOnce) {
  env::FakeClock clock(kStart);
  int calls = 0;
  RefreshingCredentialsProvider p(
      "s",
      [&]() -> Result<TemporaryCredentials> {
        ++calls;
        return TemporaryCredentials{Credentials{"AKID", kSecret, ""}, std::nullopt};
      },
      clock);
  ASSERT_TRUE(p.Get().ok());
  clock.Advance(std::chrono::hours(24 * 365));
  ASSERT_TRUE(p.Get().ok());
  EXPECT_EQ(calls, 1);
}

TEST(RefreshingCredentialsProviderTest, FailedRefreshKeepsValidCredentialsThenFails) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("metadata", fetch.Fn(), clock, minutes(5));
  ASSERT_TRUE(p.Get().ok());
  fetch.fail = Status::Unavailable("cannot connect");
  clock.Advance(minutes(57));  // inside the window, not yet expired
  Result<Credentials> c = p.Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKID1");
  clock.Advance(minutes(4));  // expired
  c = p.Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(c.status().retryable());
  EXPECT_NE(c.status().message().find("metadata"), std::string::npos);
  // Recovers once the source does.
  fetch.fail = Status::OK();
  EXPECT_TRUE(p.Get().ok());
}

TEST(RefreshingCredentialsProviderTest, InvalidateForcesAFetch) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("s", fetch.Fn(), clock);
  ASSERT_TRUE(p.Get().ok());
  p.Invalidate();
  EXPECT_EQ(p.Get()->access_key_id, "AKID2");
  // An invalidated (server-rejected) credential is not reused when the fetch fails.
  p.Invalidate();
  fetch.fail = Status::PermissionDenied("denied");
  EXPECT_FALSE(p.Get().ok());
}

TEST(RefreshingCredentialsProviderTest, EmptyKeysFromTheSourceAreCorruption) {
  env::FakeClock clock(kStart);
  RefreshingCredentialsProvider p(
      "s", []() -> Result<TemporaryCredentials> { return TemporaryCredentials{}; }, clock);
  EXPECT_EQ(p.Get().status().code(), StatusCode::kCorruption);
}

TEST(RefreshingCredentialsProviderTest, ConcurrentGetsFetchOnce) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("s", fetch.Fn(), clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) ok += p.Get().ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 800);
  EXPECT_EQ(fetch.calls, 1);
}

// --- S3Client hook ---------------------------------------------------------

S3Options ProviderOptions(std::shared_ptr<CredentialsProvider> provider) {
  S3Options o;
  o.endpoint = "http://127.0.0.1:9000";
  o.allow_http = true;
  o.bucket = "bkt";
  o.credentials = std::move(provider);
  o.retry_base_delay = std::chrono::milliseconds(1);
  return o;
}

std::string KeyIdOf(const RecordedRequest& r) {
  std::string auth = r.Header("Authorization").value_or("");
  size_t b = auth.find("Credential=") + 11;
  return auth.substr(b, auth.find('/', b) - b);
}

TEST(S3ClientCredentialsTest, ValidationAcceptsAProviderWithoutFixedKeys) {
  S3Options o = ProviderOptions(
      std::make_shared<StaticCredentialsProvider>(Credentials{"AKID", kSecret, ""}, "test"));
  EXPECT_TRUE(ValidateS3Options(o).ok());
  o.credentials = nullptr;
  EXPECT_EQ(ValidateS3Options(o).code(), StatusCode::kInvalidArgument);
}

TEST(S3ClientCredentialsTest, EveryRequestIsSignedWithTheCurrentCredentials) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  auto provider = std::make_shared<RefreshingCredentialsProvider>("s", fetch.Fn(), clock);
  auto t = std::make_unique<FakeTransport>();
  FakeTransport* transport = t.get();
  S3Client client(ProviderOptions(provider), clock, std::move(t));
  S3Request r;
  r.key = "k";
  ASSERT_TRUE(client.Call(r).ok());
  clock.Advance(std::chrono::hours(1));  // the daemon runs on; credentials expire
  ASSERT_TRUE(client.Call(r).ok());
  auto reqs = transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(KeyIdOf(reqs[0]), "AKID1");
  EXPECT_EQ(KeyIdOf(reqs[1]), "AKID2");
  EXPECT_EQ(reqs[1].Header("x-amz-security-token"), kToken);
}

TEST(S3ClientCredentialsTest, ExpiredTokenForcesOneRefreshAndRetry) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  auto provider = std::make_shared<RefreshingCredentialsProvider>("s", fetch.Fn(), clock);
  auto t = std::make_unique<FakeTransport>([](const RecordedRequest& r) {
    if (KeyIdOf(r) == "AKID1") {
      return FakeResponse{400, {}, "<Error><Code>ExpiredToken</Code><Message/></Error>", {}};
    }
    return FakeResponse{};
  });
  FakeTransport* transport = t.get();
  S3Client client(ProviderOptions(provider), clock, std::move(t));
  S3Request r;
  r.key = "k";
  ASSERT_TRUE(client.Call(r).ok());
  ASSERT_TRUE(client.Open(r).ok());
  auto reqs = transport->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(KeyIdOf(reqs[1]), "AKID2");
  EXPECT_EQ(KeyIdOf(reqs[2]), "AKID2");
}

TEST(S3ClientCredentialsTest, ExpiredTokenTwiceFailsWithoutLooping) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  auto provider = std::make_shared<RefreshingCredentialsProvider>("s", fetch.Fn(), clock);
  auto t = std::make_unique<FakeTransport>([](const RecordedRequest&) {
    return FakeResponse{400, {}, "<Error><Code>ExpiredToken</Code></Error>", {}};
  });
  FakeTransport* transport = t.get();
  S3Client client(ProviderOptions(provider), clock, std::move(t));
  S3Request r;
  Result<HttpResponse> res = client.Call(r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(transport->requests().size(), 2u);
  EXPECT_EQ(res.status().message().find(kToken), std::string::npos);
}

TEST(S3ClientCredentialsTest, ProviderErrorFailsTheRequestWithoutSending) {
  env::FakeClock clock(kStart);
  CountingFetch fetch{&clock};
  fetch.fail = Status::PermissionDenied("STS said no");
  auto provider = std::make_shared<RefreshingCredentialsProvider>("profile 'x'", fetch.Fn(), clock);
  auto t = std::make_unique<FakeTransport>();
  FakeTransport* transport = t.get();
  S3Client client(ProviderOptions(provider), clock, std::move(t));
  Result<HttpResponse> res = client.Call(S3Request{});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("profile 'x'"), std::string::npos);
  EXPECT_TRUE(transport->requests().empty());
}

TEST(S3ClientCredentialsTest, FixedKeysStillWorkWithoutAProvider) {
  env::FakeClock clock(kStart);
  S3Options o = ProviderOptions(nullptr);
  o.access_key_id = "FIXED";
  o.secret_access_key = kSecret;
  auto t = std::make_unique<FakeTransport>();
  FakeTransport* transport = t.get();
  S3Client client(o, clock, std::move(t));
  ASSERT_TRUE(client.Call(S3Request{}).ok());
  EXPECT_EQ(KeyIdOf(transport->requests()[0]), "FIXED");
  EXPECT_FALSE(transport->requests()[0].Header("x-amz-security-token").has_value());
}

}  // namespace
}  // namespace dbbackup::store::s3
