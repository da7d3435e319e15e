// Container credentials and EC2 instance metadata (IMDSv2): request flow over
// FakeTransport, JSON parsing, and one end-to-end run of each over
// CurlTransport against a tiny HTTP server on 127.0.0.1.
#include "store/s3/credentials_metadata.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "env/file_util.h"
#include "store/s3/curl_transport.h"
#include "store/s3/fake_transport.h"
#include "testing/temp_dir.h"

namespace dbbackup::store::s3 {
namespace {

constexpr char kSecret[] = "MetadataSecretNeverShown";
constexpr char kAuthToken[] = "ContainerAuthTokenNeverShown";

std::string CredsJson() {
  return std::string(R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAMETA",)") +
         R"("SecretAccessKey":")" + kSecret +
         R"(","Token":"tok","Expiration":"2023-11-15T04:00:00Z","LastUpdated":"x"})";
}

FakeResponse Answer(int status, std::string body) { return FakeResponse{status, {}, body, {}}; }

TEST(ParseCredentialsJsonTest, FieldsAndExpiration) {
  Result<TemporaryCredentials> c = ParseCredentialsJson(CredsJson(), "test");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAMETA");
  EXPECT_EQ(c->credentials.secret_access_key, kSecret);
  EXPECT_EQ(c->credentials.session_token, "tok");
  EXPECT_EQ(*c->expiration, std::chrono::system_clock::from_time_t(1700020800));
  EXPECT_EQ(ParseCredentialsJson("<html>", "t").status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(ParseCredentialsJson(R"({"AccessKeyId":"A"})", "t").ok());
  Result<TemporaryCredentials> failed =
      ParseCredentialsJson(R"({"Code":"AssumeRoleUnauthorizedAccess","SecretAccessKey":"x"})", "t");
  EXPECT_NE(failed.status().message().find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

TEST(ContainerEndpointTest, RelativeFullAndRefusedHosts) {
  EXPECT_EQ(ResolveContainerEndpoint({}).status().code(), StatusCode::kNotFound);
  Result<ContainerEndpoint> ep =
      ResolveContainerEndpoint({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"},
                                {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/y"}});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "http://169.254.170.2/v2/credentials/x");
  ep = ResolveContainerEndpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8/c"},
                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuthToken}});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "http://127.0.0.1:8/c");
  EXPECT_EQ(ep->token, kAuthToken);
  EXPECT_TRUE(ResolveContainerEndpoint(
                  {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"}})
                  .ok());
  EXPECT_TRUE(
      ResolveContainerEndpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example/x"}})
          .ok());
  EXPECT_EQ(
      ResolveContainerEndpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example/x"}})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(ContainerCredentialsTest, SendsTheTokenFromTheFileOverTheVariable) {
  testing::ScopedTempDir dir;
  ASSERT_TRUE(env::WriteFileAtomic(dir.File("token"), std::string(kAuthToken) + "\n").ok());
  FakeTransport t([](const RecordedRequest&) { return Answer(200, CredsJson()); });
  ContainerEndpoint ep{"http://127.0.0.1:8/creds", "literal", dir.File("token")};
  Result<TemporaryCredentials> c = FetchContainerCredentials(t, ep);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAMETA");
  ASSERT_EQ(t.requests().size(), 1u);
  EXPECT_EQ(t.requests()[0].method, "GET");
  EXPECT_EQ(t.requests()[0].url, "http://127.0.0.1:8/creds");
  EXPECT_EQ(t.requests()[0].Header("Authorization"), kAuthToken);
}

TEST(ContainerCredentialsTest, ErrorsNameTheEndpointNotTheToken) {
  FakeTransport t([](const RecordedRequest&) { return Answer(403, "denied"); });
  Result<TemporaryCredentials> c =
      FetchContainerCredentials(t, ContainerEndpoint{"http://127.0.0.1:8/creds", kAuthToken, ""});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("127.0.0.1:8"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kAuthToken), std::string::npos);
  EXPECT_FALSE(
      FetchContainerCredentials(t, ContainerEndpoint{"http://127.0.0.1:8/", "a\r\nX: y", ""}).ok());
}

TEST(ImdsEndpointTest, OverrideOrDefault) {
  EXPECT_EQ(ResolveImdsEndpoint({}), "http://169.254.169.254");
  EXPECT_EQ(ResolveImdsEndpoint({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"}}),
            "http://127.0.0.1:9");
}

// IMDS: token PUT, role listing, role credentials; every GET carries the token.
FakeResponse Imds(const RecordedRequest& r) {
  if (r.method == "PUT" && r.url.ends_with("/latest/api/token")) {
    if (r.Header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return Answer(400, "");
    return Answer(200, "IMDSTOKEN");
  }
  if (r.Header("x-aws-ec2-metadata-token") != "IMDSTOKEN") return Answer(401, "");
  if (r.url.ends_with("/latest/meta-data/iam/security-credentials/")) {
    return Answer(200, "backup-role\n");
  }
  if (r.url.ends_with("/latest/meta-data/iam/security-credentials/backup-role")) {
    return Answer(200, CredsJson());
  }
  return Answer(404, "");
}

TEST(ImdsCredentialsTest, V2TokenFlow) {
  FakeTransport t(Imds);
  Result<TemporaryCredentials> c = FetchImdsCredentials(t, "http://169.254.169.254");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAMETA");
  auto reqs = t.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(reqs[1].url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/backup-role");
}

TEST(ImdsCredentialsTest, NoRoleIsNotFoundAndUnreachableIsUnavailable) {
  FakeTransport t([](const RecordedRequest& r) {
    if (r.method == "PUT") return Answer(200, "T");
    return Answer(404, "");
  });
  EXPECT_EQ(FetchImdsCredentials(t, "http://x").status().code(), StatusCode::kNotFound);
  t.SetHandler([](const RecordedRequest&) {
    FakeResponse r;
    r.error = Status::Unavailable("cannot connect to http://x");
    return r;
  });
  Result<TemporaryCredentials> c = FetchImdsCredentials(t, "http://x");
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("EC2 instance metadata"), std::string::npos);
}

// --- loopback ----------------------------------------------------------------

// One request per connection: reads the head (and no body), answers through
// `handler` with Connection: close.
class LoopbackServer {
 public:
  struct Seen {
    std::string method, path, head;
  };
  using Handler = std::function<std::pair<int, std::string>(const Seen&)>;

  explicit LoopbackServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~LoopbackServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Loop() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      Seen s;
      s.head = head;
      s.method = head.substr(0, head.find(' '));
      size_t p = head.find(' ') + 1;
      s.path = head.substr(p, head.find(' ', p) - p);
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(s);
      }
      auto [status, body] = handler_(s);
      std::string out =
          "HTTP/1.1 " + std::to_string(status) +
          " X\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
          body;
      (void)!write(c, out.data(), out.size());
      close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

bool HasHeader(const std::string& head, const std::string& line) {
  std::string lower_head, lower_line;
  for (char c : head) lower_head.push_back(static_cast<char>(std::tolower(c)));
  for (char c : line) lower_line.push_back(static_cast<char>(std::tolower(c)));
  return lower_head.find("\r\n" + lower_line + "\r\n") != std::string::npos;
}

TEST(MetadataLoopbackTest, ImdsV2OverCurl) {
  LoopbackServer server([](const LoopbackServer::Seen& s) -> std::pair<int, std::string> {
    if (s.method == "PUT" && s.path == "/latest/api/token") return {200, "TOKEN123"};
    if (!HasHeader(s.head, "x-aws-ec2-metadata-token: TOKEN123")) return {401, ""};
    if (s.path == "/latest/meta-data/iam/security-credentials/") return {200, "role1"};
    if (s.path == "/latest/meta-data/iam/security-credentials/role1") return {200, CredsJson()};
    return {404, ""};
  });
  CurlTransportOptions o;
  o.connect_timeout = std::chrono::seconds(1);
  o.stall_timeout = std::chrono::seconds(1);
  CurlTransport transport(o);
  Result<TemporaryCredentials> c = FetchImdsCredentials(transport, server.Origin());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAMETA");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(HasHeader(seen[0].head, "x-aws-ec2-metadata-token-ttl-seconds: 21600"));
}

TEST(MetadataLoopbackTest, ContainerOverCurl) {
  LoopbackServer server([](const LoopbackServer::Seen& s) -> std::pair<int, std::string> {
    if (s.path != "/creds" || !HasHeader(s.head, std::string("authorization: ") + kAuthToken)) {
      return {403, ""};
    }
    return {200, CredsJson()};
  });
  CurlTransportOptions o;
  o.connect_timeout = std::chrono::seconds(1);
  o.stall_timeout = std::chrono::seconds(1);
  CurlTransport transport(o);
  Result<ContainerEndpoint> ep =
      ResolveContainerEndpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Origin() + "/creds"},
                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuthToken}});
  ASSERT_TRUE(ep.ok());
  Result<TemporaryCredentials> c = FetchContainerCredentials(transport, *ep);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAMETA");
}

TEST(MetadataLoopbackTest, NothingListeningFailsFastAndUnavailable) {
  int port;
  {
    LoopbackServer server([](const LoopbackServer::Seen&) { return std::make_pair(200, ""); });
    port = std::stoi(server.Origin().substr(server.Origin().rfind(':') + 1));
  }
  CurlTransportOptions o;
  o.connect_timeout = std::chrono::seconds(1);
  o.stall_timeout = std::chrono::seconds(1);
  CurlTransport transport(o);
  auto start = std::chrono::steady_clock::now();
  Result<TemporaryCredentials> c =
      FetchImdsCredentials(transport, "http://127.0.0.1:" + std::to_string(port));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dbbackup::store::s3
