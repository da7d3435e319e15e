// Server-side encryption and TLS, end to end with the dbbackup binary:
// - BACKUP_SSE=AES256 (default) and aws:kms with a key made by moto's KMS, as
//   the seed-policy user on moto, checked by the admin's head-object;
// - SSE-C: round trip on moto; on Ceph RGW, which enforces SSE-C (moto 5.2.1
//   ignores the SSE-C headers: it stores the object unencrypted and serves
//   it without the key, so moto cannot show that the key is needed), also
//   with a multipart upload, and restores without the key or with another
//   key fail with one clear line and leave the target untouched. That every
//   request type carries the headers is asserted on the wire in
//   src/store/s3/sse_test.cc;
// - TLS: a moto_server of this test serving https with a certificate from a
//   throwaway CA made with openssl: with BACKUP_S3_CA_BUNDLE (or
//   AWS_CA_BUNDLE) backups work, also with BACKUP_S3_UNSIGNED_PAYLOAD; without
//   the CA the run fails with one line naming TLS and the CA bundle.
//   UNSIGNED-PAYLOAD over plain http is refused.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/s3/crypto.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/temp_dir.h"
#include "testing/test_db.h"

namespace dbbackup::testing {
namespace {

namespace fs = std::filesystem;

// 32 bytes that are not all the same, so a wrong key is really different.
std::string Key(char seed) {
  std::string k(32, '\0');
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(seed * 31 + i * 7);
  return k;
}

// Adds a table of incompressible blobs, so the backup needs a multipart
// upload (more than the 8 MiB part size).
::testing::AssertionResult AddIncompressibleMegabytes(const std::string& db, int megabytes) {
  ProcessResult r = RunProcess({"sqlite3", db,
                                "CREATE TABLE big(b); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                                "SELECT x+1 FROM c WHERE x<" +
                                    std::to_string(megabytes) +
                                    ") INSERT INTO big SELECT randomblob(1048576) FROM c;"});
  if (!r.ok()) return ::testing::AssertionFailure() << r.Describe();
  return ::testing::AssertionSuccess();
}

class CliSseMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DBB_SKIP_UNLESS_S3(env_, S3Server::kMoto);
    box_.UseS3(env_.moto_backup, env_.moto_bucket);
    box_.Set("BACKUP_PREFIX", UniqueBucketName("cli-sse"));
    db_ = box_.Path("app.db");
    ASSERT_TRUE(CreateTestDb(db_, {.tables = 2, .rows_per_table = 100}));
    box_.Set("DATABASE_PATH", db_);
  }
  void TearDown() override { DeleteObjectsWithAws(env_.moto_admin, env_.moto_bucket, written_); }
  // backup --no-prune --json; returns the key ("" after a failure).
  std::string BackUp() {
    ProcessResult r = box_.Run({"backup", "--no-prune", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    nlohmann::json j;
    EXPECT_TRUE(ParseJsonStdout(r, &j));
    std::string key = j.value("key", "");
    if (!key.empty()) written_.push_back(key);
    return key;
  }
  void ExpectRestoresIdentically(const std::string& key) {
    const std::string to = box_.Path("restored-" + std::to_string(written_.size()) + ".db");
    ProcessResult r = box_.Run({"restore", key, "--to", to});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_EQ(DumpDb(to), DumpDb(db_));
  }

  const TestS3Env& env_ = TestS3Env::Get();
  std::string db_;
  std::vector<std::string> written_;
  CliSandbox box_;
};

TEST_F(CliSseMotoTest, Aes256IsTheDefault) {
  const std::string key = BackUp();
  ASSERT_FALSE(key.empty());
  nlohmann::json head;
  ASSERT_TRUE(AwsHeadObject(env_.moto_admin, env_.moto_bucket, key, &head));
  EXPECT_EQ(head.value("ServerSideEncryption", ""), "AES256") << head;
  ExpectRestoresIdentically(key);
}

TEST_F(CliSseMotoTest, AwsKmsWithAKeyFromMotoKms) {
  ProcessResult created = RunAws(
      env_.moto_admin, {"kms", "create-key", "--description", "dbbackup test", "--output", "json"});
  ASSERT_TRUE(created.ok()) << created.Describe();
  nlohmann::json k = nlohmann::json::parse(created.stdout_text, nullptr, false);
  ASSERT_FALSE(k.is_discarded());
  const std::string arn = k["KeyMetadata"].value("Arn", "");
  const std::string id = k["KeyMetadata"].value("KeyId", "");
  ASSERT_FALSE(arn.empty());
  box_.Set("BACKUP_SSE", "aws:kms");
  box_.Set("BACKUP_SSE_KMS_KEY_ID", arn);
  const std::string key = BackUp();
  ASSERT_FALSE(key.empty());
  nlohmann::json head;
  ASSERT_TRUE(AwsHeadObject(env_.moto_admin, env_.moto_bucket, key, &head));
  EXPECT_EQ(head.value("ServerSideEncryption", ""), "aws:kms") << head;
  EXPECT_NE(head.value("SSEKMSKeyId", "").find(id), std::string::npos) << head;
  ExpectRestoresIdentically(key);
}

TEST_F(CliSseMotoTest, SseCRoundTrip) {
  WriteFileOrFail(box_.Path("sse.key"), store::s3::Base64Encode(Key(1)) + "\n");
  box_.Set("BACKUP_SSE", "SSE-C");
  box_.Set("BACKUP_SSE_CUSTOMER_KEY_FILE", box_.Path("sse.key"));
  const std::string key = BackUp();
  ASSERT_FALSE(key.empty());
  ExpectRestoresIdentically(key);
  ProcessResult verify = box_.Run({"verify", key, "--deep"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

TEST(CliSseRgwTest, SseCKeyIsNeededToRestoreAndAWrongOneIsRefused) {
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);
  const std::string bucket = UniqueBucketName("cli-ssec");
  ASSERT_TRUE(CreateBucket(env.rgw_owner, bucket));
  CliSandbox box;
  box.UseS3(env.rgw_owner, bucket);
  const std::string db = box.Path("app.db");
  ASSERT_TRUE(CreateTestDb(db, {.tables = 1, .rows_per_table = 50}));
  ASSERT_TRUE(AddIncompressibleMegabytes(db, 12));
  box.Set("DATABASE_PATH", db);
  // The raw 32 bytes to write, their base64 to read: both forms work.
  WriteFileOrFail(box.Path("raw.key"), Key(1));
  WriteFileOrFail(box.Path("b64.key"), store::s3::Base64Encode(Key(1)));
  WriteFileOrFail(box.Path("other.key"), Key(2));
  box.Set("BACKUP_SSE", "SSE-C");
  box.Set("BACKUP_SSE_CUSTOMER_KEY_FILE", box.Path("raw.key"));
  ProcessResult backup = box.Run({"backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.Describe();
  nlohmann::json bj;
  ASSERT_TRUE(ParseJsonStdout(backup, &bj));
  const std::string key = bj.value("key", "");
  ASSERT_GT(bj.value("compressed_size", 0), 8 << 20) << "must be a multipart upload";

  // The server encrypted it: the aws CLI cannot read it without the key.
  EXPECT_NE(AwsErrorCode(env.rgw_owner,
                         {"s3api", "get-object", "--bucket", bucket, "--key", key, "/dev/null"}),
            "");

  const std::string target = box.Path("target.db");
  ASSERT_TRUE(CreateTestDb(target, {.tables = 1, .rows_per_table = 5, .seed = 9}));
  const std::string before = DumpDb(target);

  box.Set("BACKUP_SSE_CUSTOMER_KEY_FILE", box.Path("b64.key"));
  ProcessResult ok = box.Run({"restore", key, "--to", box.Path("restored.db")});
  ASSERT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_EQ(DumpDb(box.Path("restored.db")), DumpDb(db));

  box.Set("BACKUP_SSE_CUSTOMER_KEY_FILE", box.Path("other.key"));
  ProcessResult wrong = box.Run({"restore", key, "--to", target});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.Describe();
  EXPECT_TRUE(OneErrorLine(wrong, {"BACKUP_SSE_CUSTOMER_KEY_FILE"}));
  EXPECT_EQ(DumpDb(target), before);

  box.Unset("BACKUP_SSE");
  box.Unset("BACKUP_SSE_CUSTOMER_KEY_FILE");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"restore", key, "--to", target},
        std::vector<std::string>{"verify", key}}) {
    ProcessResult without = box.Run(args);
    EXPECT_EQ(without.exit_code, 1) << without.Describe();
    EXPECT_TRUE(OneErrorLine(without, {"BACKUP_SSE=SSE-C", "BACKUP_SSE_CUSTOMER_KEY_FILE"}))
        << args[0];
  }
  EXPECT_EQ(DumpDb(target), before);
  ProcessResult cleanup = RunAws(env.rgw_owner, {"s3", "rb", "s3://" + bucket, "--force"});
  EXPECT_TRUE(cleanup.ok()) << cleanup.Describe();
}

// A database and S3 settings whose endpoint is a closed port: for errors
// that must come before any request.
void UseUnreachableS3(CliSandbox& box) {
  ASSERT_TRUE(CreateTestDb(box.Path("app.db"), {.tables = 1, .rows_per_table = 5}));
  box.Set("DATABASE_PATH", box.Path("app.db"));
  box.Set("S3_BACKUP_BUCKET", "dbb-offline");
  box.Set("S3_ENDPOINT_URL", "http://127.0.0.1:1");
  box.Set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
  box.Set("AWS_SECRET_ACCESS_KEY", "secret");
}

TEST(CliSseConfigTest, UnusableKeyFileIsAUsageErrorThatNeverEchoesIt) {
  CliSandbox box;
  UseUnreachableS3(box);
  box.Set("BACKUP_SSE", "SSE-C");
  WriteFileOrFail(box.Path("short.key"), "only-twenty-bytes-ab");
  struct Case {
    std::string key_file;  // "" = unset
    std::vector<std::string> error_names;
  };
  for (const Case& c : {Case{"", {"BACKUP_SSE_CUSTOMER_KEY_FILE"}},
                        Case{box.Path("short.key"), {"short.key", "32"}},
                        Case{box.Path("missing.key"), {"missing.key"}}}) {
    if (c.key_file.empty()) {
      box.Unset("BACKUP_SSE_CUSTOMER_KEY_FILE");
    } else {
      box.Set("BACKUP_SSE_CUSTOMER_KEY_FILE", c.key_file);
    }
    ProcessResult r = box.Run({"backup"});
    EXPECT_EQ(r.exit_code, 2) << c.key_file << ": " << r.Describe();
    EXPECT_TRUE(OneErrorLine(r, c.error_names)) << c.key_file;
    EXPECT_EQ(r.stderr_text.find("only-twenty"), std::string::npos) << "the key is never echoed";
  }
}

TEST(CliTlsConfigTest, UnsignedPayloadOverPlainHttpIsRefused) {
  CliSandbox box;
  UseUnreachableS3(box);
  box.Set("BACKUP_S3_UNSIGNED_PAYLOAD", "true");
  ProcessResult r = box.Run({"backup"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(OneErrorLine(r, {"BACKUP_S3_UNSIGNED_PAYLOAD", "https"}));
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

// A throwaway CA, a certificate for 127.0.0.1 signed by it, and a
// moto_server (no IAM enforcement: any keys sign) serving https with it.
class CliTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = dir_.path();
    ca_ = (d / "ca.pem").string();
    const std::string ca_key = (d / "ca.key").string();
    const std::string key = (d / "server.key").string();
    const std::string csr = (d / "server.csr").string();
    const std::string cert = (d / "server.pem").string();
    const std::string ext = (d / "san.ext").string();
    WriteFileOrFail(ext, "subjectAltName=IP:127.0.0.1\n");
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                   "-keyout", ca_key, "-out", ca_, "-days", "1", "-subj",
                                   "/CN=dbbackup test CA"},
          std::vector<std::string>{"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                   key, "-out", csr, "-subj", "/CN=127.0.0.1"},
          std::vector<std::string>{"openssl", "x509", "-req", "-in", csr, "-CA", ca_, "-CAkey",
                                   ca_key, "-CAcreateserial", "-out", cert, "-days", "1",
                                   "-extfile", ext}}) {
      ProcessResult r = RunProcess(cmd);
      ASSERT_TRUE(r.ok()) << r.Describe();
    }
    ProcessResult which = RunProcess({"sh", "-c", "command -v moto_server"});
    if (!which.ok()) {
      if (TestS3Env::Get().Required()) FAIL() << "moto_server is not installed";
      GTEST_SKIP() << "moto_server is not installed";
    }
    const std::string moto = which.stdout_text.substr(0, which.stdout_text.find('\n'));
    const int port = FreeLoopbackPort();
    ASSERT_GT(port, 0);
    endpoint_ = "https://127.0.0.1:" + std::to_string(port);
    ProcessOptions o;
    o.unset_env = {"AWS_*", "MOTO_*", "INITIAL_NO_AUTH_ACTION_COUNT"};
    moto_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{moto, "-H", "127.0.0.1", "-p", std::to_string(port), "-c", cert,
                                 "-k", key},
        o, (d / "moto").string());
    ASSERT_TRUE(moto_->started());
    ASSERT_TRUE(WaitFor(
        [&] {
          return RunProcess(
                     {"curl", "-sf", "--cacert", ca_, "-o", "/dev/null", endpoint_ + "/moto-api/"})
              .ok();
        },
        std::chrono::seconds(60), std::chrono::milliseconds(200)))
        << moto_->Stderr();
    target_.endpoint = endpoint_;
    target_.credentials = {"AKIAIOSFODNN7EXAMPLE", "tls-test-secret"};
    ProcessOptions aws;
    aws.set_env["AWS_CA_BUNDLE"] = ca_;
    ProcessResult mb = RunAws(target_, {"s3api", "create-bucket", "--bucket", "dbb-tls"}, aws);
    ASSERT_TRUE(mb.ok()) << mb.Describe();

    box_.UseS3(target_, "dbb-tls");
    ASSERT_TRUE(CreateTestDb(box_.Path("app.db"), {.tables = 2, .rows_per_table = 100}));
    box_.Set("DATABASE_PATH", box_.Path("app.db"));
  }
  void TearDown() override {
    if (moto_) {
      moto_->Kill(SIGTERM);
      if (moto_->Wait(std::chrono::seconds(10)) == -1) moto_->Kill(SIGKILL);
    }
  }

  ScopedTempDir dir_;
  std::string ca_;
  std::string endpoint_;
  S3Target target_;
  std::unique_ptr<BackgroundProcess> moto_;
  CliSandbox box_;
};

TEST_F(CliTlsTest, CaBundleMakesHttpsWorkAndItsAbsenceIsAOneLineTlsError) {
  // Certificates are verified by default: this CA is in no system store.
  ProcessResult untrusted = box_.Run({"backup", "--no-prune"});
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.Describe();
  EXPECT_TRUE(OneErrorLine(untrusted, {"TLS", endpoint_, "CA bundle"}));

  box_.Set("BACKUP_S3_CA_BUNDLE", ca_);
  ProcessResult r = box_.Run({"backup", "--no-prune", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  nlohmann::json j;
  ASSERT_TRUE(ParseJsonStdout(r, &j));
  const std::string key = j.value("key", "");
  ProcessResult restore = box_.Run({"restore", key, "--to", box_.Path("r1.db")});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(DumpDb(box_.Path("r1.db")), DumpDb(box_.Path("app.db")));

  // The AWS CLI's variable works as well, and unsigned payloads are allowed
  // over https when asked for.
  box_.Unset("BACKUP_S3_CA_BUNDLE");
  box_.Set("AWS_CA_BUNDLE", ca_);
  box_.Set("BACKUP_S3_UNSIGNED_PAYLOAD", "true");
  ProcessResult unsigned_backup = box_.Run({"backup", "--no-prune", "--json"});
  ASSERT_EQ(unsigned_backup.exit_code, 0) << unsigned_backup.Describe();
  ASSERT_TRUE(ParseJsonStdout(unsigned_backup, &j));
  ProcessResult r2 = box_.Run({"restore", j.value("key", ""), "--to", box_.Path("r2.db")});
  ASSERT_EQ(r2.exit_code, 0) << r2.Describe();
  EXPECT_EQ(DumpDb(box_.Path("r2.db")), DumpDb(box_.Path("app.db")));
}

}  // namespace
}  // namespace dbbackup::testing
