// The dbbackup binary with every source of the credentials chain, end to end
// on moto_server with IAM enforced: a backup (and restore/verify) signed with
// credentials from flags, the environment, .env, a profile of the shared
// files, a role assumed with moto's STS (AssumeRole and
// AssumeRoleWithWebIdentity), a container credentials endpoint and EC2
// instance metadata (IMDSv2). The last two are small cpp-httplib servers on
// loopback that hand out temporary credentials moto's STS issued for a role
// with the seed policy. Each run must say which source it used (stderr and
// --json "credentials_source") and never print a secret.
//
// Also: secrets given as flags are in none of stdout, stderr or --json, and
// vanish from /proc/PID/cmdline once the flags are parsed.
//
// list and prune cannot run on moto (ListObjectsV2 prefix=backups/full/, see
// cli_moto_test.cc); their credentials_source is checked on Ceph RGW.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/httplib_adapter.h"
#include "env/file_util.h"
#include "store/s3/curl_transport.h"
#include "store/s3/http_transport.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/moto_sts.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;

// A cpp-httplib server on a free loopback port, stopped on destruction.
class LoopbackHttp {
 public:
  explicit LoopbackHttp(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections wait in the backlog until
    // the thread accepts them.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LoopbackHttp() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return port_ > 0; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

std::string IsoInOneHour() {
  std::time_t t = std::time(nullptr) + 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The credentials document container and instance metadata endpoints serve.
std::string CredentialsDocument(const store::s3::Credentials& c) {
  return nlohmann::json{{"Code", "Success"},
                        {"Type", "AWS-HMAC"},
                        {"AccessKeyId", c.access_key_id},
                        {"SecretAccessKey", c.secret_access_key},
                        {"Token", c.session_token},
                        {"Expiration", IsoInOneHour()}}
      .dump();
}

class CliCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kMoto);
    prefix_ = UniqueBucketName("cli-creds");
    // The bucket and endpoint, but no keys: each test supplies a source.
    box_.Set("AWS_REGION", env_.moto_admin.region);
    box_.Set("S3_ENDPOINT_URL", env_.moto_admin.endpoint);
    box_.Set("S3_BACKUP_BUCKET", env_.moto_bucket);
    box_.Set("BACKUP_PREFIX", prefix_);
    db_ = box_.Path("app.db");
    ASSERT_TRUE(CreateTestDb(db_, {.tables = 2, .rows_per_table = 50}));
    box_.Set("DATABASE_PATH", db_);
  }

  void TearDown() override { DeleteObjectsWithAws(env_.moto_admin, env_.moto_bucket, written_); }

  // A role with the seed policy on the test bucket that the admin may assume.
  std::string SeedRole(const std::string& tag) {
    return CreateSeedRole(env_.moto_admin, UniqueBucketName(tag), TrustAdminUser(env_.moto_admin),
                          env_.moto_bucket);
  }

  // Runs `backup --no-prune --json ARGS` and checks it succeeded with
  // credentials whose source contains `source`, said on stderr and in the
  // JSON, with none of `secrets` anywhere in the output. Returns the key.
  std::string BackUpWith(const std::string& source, const std::vector<std::string>& secrets,
                         const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {"backup", "--no-prune", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = box_.Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    nlohmann::json j;
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    const std::string key = j.value("key", "");
    if (!key.empty()) written_.push_back(key);
    EXPECT_EQ(j.value("verified", false), true) << j;
    EXPECT_NE(j.value("credentials_source", "").find(source), std::string::npos) << j;
    EXPECT_NE(r.stderr_text.find("dbbackup: credentials: "), std::string::npos) << r.Describe();
    EXPECT_NE(r.stderr_text.find(source), std::string::npos) << r.Describe();
    for (const std::string& s : secrets) {
      EXPECT_EQ(r.stdout_text.find(s), std::string::npos) << "secret on stdout";
      EXPECT_EQ(r.stderr_text.find(s), std::string::npos) << "secret on stderr";
    }
    return key;
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string prefix_;
  std::string db_;
  std::vector<std::string> written_;
  CliSandbox box_;
};

TEST_F(CliCredentialsTest, EnvironmentThenRestoreAndVerifySayTheSourceToo) {
  const S3Credentials& keys = env_.moto_backup.credentials;
  box_.Set("AWS_ACCESS_KEY_ID", keys.access_key);
  box_.Set("AWS_SECRET_ACCESS_KEY", keys.secret_key);
  const std::string key = BackUpWith("environment", {keys.secret_key});
  ASSERT_FALSE(key.empty());

  // The key id is shown masked: its first and last four characters only.
  ProcessResult restore = box_.Run({"restore", key, "--to", box_.Path("r.db"), "--json"});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  const std::string masked =
      keys.access_key.substr(0, 4) + "..." + keys.access_key.substr(keys.access_key.size() - 4);
  EXPECT_NE(restore.stderr_text.find("credentials: environment (access key id " + masked + ")"),
            std::string::npos)
      << restore.Describe();
  EXPECT_EQ(restore.stderr_text.find(keys.access_key), std::string::npos) << restore.Describe();
  nlohmann::json rj;
  ASSERT_TRUE(ParseJsonStdout(restore, &rj));
  EXPECT_EQ(rj.value("credentials_source", ""), "environment") << rj;

  ProcessResult verify = box_.Run({"verify", key, "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.Describe();
  nlohmann::json vj;
  ASSERT_TRUE(ParseJsonStdout(verify, &vj));
  EXPECT_EQ(vj.value("credentials_source", ""), "environment") << vj;
}

TEST_F(CliCredentialsTest, DotEnvFile) {
  const S3Credentials& keys = env_.moto_backup.credentials;
  WriteFileOrFail(box_.Path(".env"), "AWS_ACCESS_KEY_ID=" + keys.access_key +
                                         "\nAWS_SECRET_ACCESS_KEY=" + keys.secret_key + "\n");
  BackUpWith(".env file .env", {keys.secret_key});
}

TEST_F(CliCredentialsTest, FlagsWinOverTheEnvironment) {
  const S3Credentials& keys = env_.moto_backup.credentials;
  // Keys in the environment that moto does not know: the flags must win.
  box_.Set("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0");
  box_.Set("AWS_SECRET_ACCESS_KEY", "wrong-secret-in-the-environment");
  const std::string secret_file = box_.Path("secret");
  WriteFileOrFail(secret_file, keys.secret_key + "\n");
  BackUpWith("flags", {keys.secret_key},
             {"--aws-access-key-id", keys.access_key, "--aws-secret-access-key-file", secret_file});
  BackUpWith("flags", {keys.secret_key},
             {"--aws-access-key-id", keys.access_key, "--aws-secret-access-key", keys.secret_key});
}

TEST_F(CliCredentialsTest, ProfileOfTheSharedCredentialsFile) {
  const S3Credentials& keys = env_.moto_backup.credentials;
  ASSERT_TRUE(env::MakeDirs(box_.HomeDir() + "/.aws").ok());
  WriteFileOrFail(box_.HomeDir() + "/.aws/credentials",
                  "[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\n"
                  "aws_secret_access_key = wrong\n\n[backup]\naws_access_key_id = " +
                      keys.access_key + "\naws_secret_access_key = " + keys.secret_key + "\n");
  box_.Set("AWS_PROFILE", "backup");
  BackUpWith("profile 'backup'", {keys.secret_key});
  // --profile is the same, and wins over AWS_PROFILE.
  box_.Set("AWS_PROFILE", "default");
  BackUpWith("profile 'backup'", {keys.secret_key}, {"--profile", "backup"});
}

TEST_F(CliCredentialsTest, ProfileRoleAssumedWithMotoSts) {
  const std::string arn = SeedRole("cli-role");
  ASSERT_FALSE(arn.empty());
  const S3Credentials& admin = env_.moto_admin.credentials;
  ASSERT_TRUE(env::MakeDirs(box_.HomeDir() + "/.aws").ok());
  WriteFileOrFail(box_.HomeDir() + "/.aws/credentials",
                  "[base]\naws_access_key_id = " + admin.access_key +
                      "\naws_secret_access_key = " + admin.secret_key + "\n");
  WriteFileOrFail(box_.HomeDir() + "/.aws/config",
                  "[profile backup]\nrole_arn = " + arn + "\nsource_profile = base\n");
  box_.Set("AWS_PROFILE", "backup");
  box_.Set("AWS_ENDPOINT_URL_STS", env_.moto_admin.endpoint);
  BackUpWith("via STS AssumeRole", {admin.secret_key});
}

TEST_F(CliCredentialsTest, WebIdentityWithMotoSts) {
  const std::string arn = CreateSeedRole(env_.moto_admin, UniqueBucketName("cli-web"),
                                         TrustWebIdentity(), env_.moto_bucket);
  ASSERT_FALSE(arn.empty());
  // dbbackup calls AssumeRoleWithWebIdentity unsigned, as AWS expects; this
  // proxy signs it for moto (testing/moto_sts.h) and counts the calls.
  std::atomic<int> calls{0}, unsigned_calls{0};
  const S3Target admin = env_.moto_admin;
  LoopbackHttp proxy([&](httplib::Server& s) {
    s.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
      if (req.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos) ++calls;
      if (!req.has_header("Authorization")) ++unsigned_calls;
      store::s3::HeaderList headers = {
          {"host", admin.endpoint.substr(admin.endpoint.find("://") + 3)},
          {"content-type", req.get_header_value("Content-Type")}};
      SignUnsignedStsRequest(admin, "POST", admin.endpoint + "/", req.body, headers);
      store::s3::CurlTransport curl(store::s3::CurlTransportOptions{});
      StringReader body(req.body);
      store::s3::HttpRequest out;
      out.method = "POST";
      out.url = admin.endpoint + "/";
      out.headers = headers;
      out.body = &body;
      out.body_length = req.body.size();
      Result<store::s3::HttpResponse> answer = store::s3::SendAndReadAll(curl, out);
      if (!answer.ok()) {
        res.status = 502;
        return;
      }
      res.status = answer->status;
      res.set_content(answer->body, "text/xml");
    });
  });
  ASSERT_TRUE(proxy.ok());
  WriteFileOrFail(box_.Path("token"), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\n");
  box_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", box_.Path("token"));
  box_.Set("AWS_ROLE_ARN", arn);
  box_.Set("AWS_ENDPOINT_URL_STS", proxy.Url());
  BackUpWith("AssumeRoleWithWebIdentity", {});
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(unsigned_calls.load(), 1) << "the web identity token is the proof; no signature";
}

TEST_F(CliCredentialsTest, ContainerCredentialsEndpoint) {
  const std::string arn = SeedRole("cli-ecs");
  ASSERT_FALSE(arn.empty());
  store::s3::Credentials temp;
  ASSERT_TRUE(AssumeRoleWithAwsCli(env_.moto_admin, arn, &temp));
  std::mutex mu;
  std::vector<std::string> auth_seen;
  LoopbackHttp endpoint([&](httplib::Server& s) {
    s.Get("/creds", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      auth_seen.push_back(req.get_header_value("Authorization"));
      if (req.get_header_value("Authorization") != "container-token") {
        res.status = 401;
        return;
      }
      res.set_content(CredentialsDocument(temp), "application/json");
    });
  });
  ASSERT_TRUE(endpoint.ok());
  box_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.Url() + "/creds");
  WriteFileOrFail(box_.Path("ecs-token"), "container-token\n");
  box_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", box_.Path("ecs-token"));
  BackUpWith("container credentials endpoint", {temp.secret_access_key, temp.session_token});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(auth_seen.empty());
  EXPECT_EQ(auth_seen.front(), "container-token");
}

TEST_F(CliCredentialsTest, Ec2InstanceMetadataWithImdsV2Token) {
  const std::string arn = SeedRole("cli-imds");
  ASSERT_FALSE(arn.empty());
  store::s3::Credentials temp;
  ASSERT_TRUE(AssumeRoleWithAwsCli(env_.moto_admin, arn, &temp));
  std::mutex mu;
  std::vector<std::string> log;  // "PUT token", "GET <path> token=<t>"
  LoopbackHttp imds([&](httplib::Server& s) {
    s.Put("/latest/api/token", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      log.push_back("PUT ttl=" + req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"));
      res.set_content("imds-session-token", "text/plain");
    });
    s.Get(R"(/latest/meta-data/iam/security-credentials/(.*))",
          [&](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu);
            const std::string token = req.get_header_value("X-aws-ec2-metadata-token");
            log.push_back("GET " + req.path + " token=" + token);
            if (token != "imds-session-token") {
              res.status = 401;  // IMDSv2 only, as hardened instances are
              return;
            }
            const std::string role = req.matches[1];
            if (role.empty()) {
              res.set_content("backup-role", "text/plain");
            } else if (role == "backup-role") {
              res.set_content(CredentialsDocument(temp), "application/json");
            } else {
              res.status = 404;
            }
          });
  });
  ASSERT_TRUE(imds.ok());
  box_.Set("AWS_EC2_METADATA_DISABLED", "false");
  box_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.Url());
  BackUpWith("EC2 instance metadata", {temp.secret_access_key, temp.session_token});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(log.size(), 3u);
  EXPECT_TRUE(log[0].starts_with("PUT ttl=")) << log[0];
  EXPECT_NE(log[0], "PUT ttl=") << "the token request names its TTL";
  EXPECT_EQ(log[1], "GET /latest/meta-data/iam/security-credentials/ token=imds-session-token");
  EXPECT_EQ(log[2],
            "GET /latest/meta-data/iam/security-credentials/backup-role token=imds-session-token");
}

// A listening socket that accepts connections but never answers.
class StalledPort {
 public:
  StalledPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~StalledPort() {
    for (int c : accepted_) close(c);
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }
  // True once a client has connected (the connection is kept open, silent).
  bool Accepted() {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) accepted_.push_back(c);
    return !accepted_.empty();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> accepted_;
};

std::string ReadCmdline(pid_t pid) {
  std::string s = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : s) {
    if (c == '\0') c = ' ';
  }
  return s;
}

class CliSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateTestDb(box_.Path("app.db"), {.tables = 1, .rows_per_table = 10}));
    box_.Set("DATABASE_PATH", box_.Path("app.db"));
    box_.Set("S3_BACKUP_BUCKET", "dbb-secrets-test");
  }
  const std::string kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET";
  const std::string kToken = "FwoGZXIvYXdzSESSIONTOKENSESSIONTOKEN0123456789";
  CliSandbox box_;
};

TEST_F(CliSecretsTest, SecretFlagsNeverReachOutputOnAFailingRequest) {
  // A closed loopback port: the request fails after its retries.
  box_.Set("S3_ENDPOINT_URL", "http://127.0.0.1:1");
  for (const std::string command : {"backup", "list", "restore", "verify", "prune"}) {
    ProcessResult r = box_.Run({command, "--json", "--aws-access-key-id", "AKIAIOSFODNN7EXAMPLE",
                                "--aws-secret-access-key", kSecret, "--aws-session-token", kToken},
                               std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.Describe();
    nlohmann::json j;
    EXPECT_TRUE(ParseJsonStdout(r, &j)) << command;
    EXPECT_TRUE(j.contains("error")) << command << ": " << j;
    EXPECT_TRUE(OneErrorLine(r, {"127.0.0.1:1"})) << command;
    for (const std::string& s : {kSecret, kToken}) {
      EXPECT_EQ(r.stdout_text.find(s), std::string::npos) << command << ": secret on stdout";
      EXPECT_EQ(r.stderr_text.find(s), std::string::npos) << command << ": secret on stderr";
    }
    EXPECT_NE(r.stderr_text.find("credentials: flags (access key id AKIA...MPLE)"),
              std::string::npos)
        << r.Describe();
  }
}

TEST_F(CliSecretsTest, SecretFlagIsGoneFromProcCmdlineWhileTheCommandRuns) {
  StalledPort stalled;
  ASSERT_GT(stalled.port(), 0);
  box_.Set("S3_ENDPOINT_URL", "http://127.0.0.1:" + std::to_string(stalled.port()));
  ScopedTempDir out;
  BackgroundProcess p({DbbackupBinary(), "restore", "--aws-access-key-id", "AKIAIOSFODNN7EXAMPLE",
                       "--aws-secret-access-key", kSecret, "--aws-session-token=" + kToken},
                      box_.Options(), (out.path() / "restore").string());
  ASSERT_TRUE(p.started());
  // Once the S3 request has connected, the flags have long been parsed.
  ASSERT_TRUE(WaitFor([&] { return stalled.Accepted(); }, std::chrono::seconds(30))) << p.Stderr();
  const std::string cmdline = ReadCmdline(p.pid());
  EXPECT_TRUE(p.Running()) << "the command must still be waiting on the stalled port";
  EXPECT_NE(cmdline.find("--aws-secret-access-key"), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find(kSecret), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find(kToken), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find(std::string(kSecret.size(), '*')), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("--aws-session-token=" + std::string(kToken.size(), '*')),
            std::string::npos)
      << cmdline;
  EXPECT_NE(cmdline.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos) << "key ids are not secret";
  p.Kill(SIGKILL);
  EXPECT_NE(p.Wait(std::chrono::seconds(10)), -1);
}

TEST_F(CliSecretsTest, SecretFlagWithoutKeyIdIsAUsageErrorThatDoesNotEchoIt) {
  ProcessResult r = box_.Run({"backup", "--aws-secret-access-key", kSecret});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"--aws-access-key-id"}));
  EXPECT_EQ(r.stderr_text.find(kSecret), std::string::npos);
}

// list and prune on Ceph RGW (moto cannot list a prefix with '/').
TEST(CliCredentialsRgwTest, ListAndPruneSayTheSourceInJson) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);
  const std::string bucket = UniqueBucketName("cli-creds");
  ASSERT_TRUE(CreateBucket(env.rgw_owner, bucket));
  CliSandbox box;
  box.UseS3(env.rgw_owner, bucket);
  ASSERT_TRUE(CreateTestDb(box.Path("app.db"), {.tables = 1, .rows_per_table = 10}));
  box.Set("DATABASE_PATH", box.Path("app.db"));
  ASSERT_EQ(box.Run({"backup"}).exit_code, 0);
  ProcessResult list = box.Run({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  nlohmann::json lj;
  ASSERT_TRUE(ParseJsonStdout(list, &lj));
  ASSERT_TRUE(lj.is_array() && lj.size() == 1) << lj;
  EXPECT_EQ(lj[0].value("credentials_source", ""), "environment") << lj;
  ProcessResult prune = box.Run({"prune", "--json"});
  ASSERT_EQ(prune.exit_code, 0) << prune.Describe();
  nlohmann::json pj;
  ASSERT_TRUE(ParseJsonStdout(prune, &pj));
  EXPECT_EQ(pj.value("credentials_source", ""), "environment") << pj;
  EXPECT_EQ(pj["deleted"].size(), 0u) << "the newest backup is kept";
  ProcessResult cleanup = RunAws(env.rgw_owner, {"s3", "rb", "s3://" + bucket, "--force"});
  EXPECT_TRUE(cleanup.ok()) << cleanup.Describe();
}

// Local mode has no credentials: the field is null, not a made-up source.
TEST(CliCredentialsLocalTest, LocalModeReportsNoSource) {
  CliSandbox box;
  ASSERT_TRUE(CreateTestDb(box.Path("database.db"), {.tables = 1, .rows_per_table = 10}));
  ProcessResult r = box.Run({"backup", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(r, &j));
  ASSERT_TRUE(j.contains("credentials_source")) << j;
  EXPECT_TRUE(j["credentials_source"].is_null()) << j;
  EXPECT_EQ(r.stderr_text.find("credentials:"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace dbbackup::testing
