#include "testing/moto_sts.h"

#include <strings.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "store/s3/crypto.h"
#include "testing/aws_cli.h"

namespace dbbackup::testing {

std::string CreateSeedRole(const S3Target& admin, const std::string& name, const std::string& trust,
                           const std::string& bucket) {
  ProcessResult r = RunAws(admin, {"iam", "create-role", "--role-name", name,
                                   "--assume-role-policy-document", trust, "--output", "json"});
  EXPECT_TRUE(r.ok()) << r.stderr_text;
  if (!r.ok()) return "";
  nlohmann::json j = nlohmann::json::parse(r.stdout_text, nullptr, false);
  std::string arn = j.is_discarded() ? "" : j["Role"]["Arn"].get<std::string>();
  r = RunAws(admin, {"iam", "put-role-policy", "--role-name", name, "--policy-name", "seed",
                     "--policy-document", SeedPolicyJson(bucket)});
  EXPECT_TRUE(r.ok()) << r.stderr_text;
  return arn;
}

std::string TrustAdminUser(const S3Target& admin) {
  ProcessResult r =
      RunAws(admin, {"sts", "get-caller-identity", "--query", "Arn", "--output", "text"});
  EXPECT_TRUE(r.ok()) << r.stderr_text;
  std::string arn = r.stdout_text.substr(0, r.stdout_text.find_first_of("\r\n"));
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
         R"("Principal":{"AWS":")" +
         arn + R"("},"Action":"sts:AssumeRole"}]})";
}

std::string TrustWebIdentity() {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
         R"("Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/example.com"},)"
         R"("Action":"sts:AssumeRoleWithWebIdentity"}]})";
}

::testing::AssertionResult AssumeRoleWithAwsCli(const S3Target& admin, const std::string& role_arn,
                                                store::s3::Credentials* out) {
  ProcessResult r = RunAws(admin, {"sts", "assume-role", "--role-arn", role_arn,
                                   "--role-session-name", "dbb-test", "--output", "json"});
  if (!r.ok()) return ::testing::AssertionFailure() << "assume-role: " << r.Describe();
  nlohmann::json j = nlohmann::json::parse(r.stdout_text, nullptr, false);
  if (j.is_discarded() || !j.contains("Credentials")) {
    return ::testing::AssertionFailure() << "assume-role: unparsable " << r.stdout_text;
  }
  const nlohmann::json& c = j["Credentials"];
  *out = store::s3::Credentials{c.value("AccessKeyId", ""), c.value("SecretAccessKey", ""),
                                c.value("SessionToken", "")};
  return ::testing::AssertionSuccess();
}

void SignUnsignedStsRequest(const S3Target& admin, const std::string& method,
                            const std::string& url, const std::string& body,
                            store::s3::HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (name.size() == 13 && strncasecmp(name.c_str(), "authorization", 13) == 0) return;
  }
  const auto now = std::chrono::system_clock::now();
  store::s3::SigningRequest sr;
  sr.method = method;
  // The path and query of `url` (STS calls POST a form to "/").
  size_t path = url.find('/', url.find("://") + 3);
  sr.path = path == std::string::npos ? "/" : url.substr(path, url.find('?', path) - path);
  sr.payload_hash = store::s3::Sha256Hex(body);
  sr.headers = headers;
  sr.headers.emplace_back("x-amz-date", store::s3::FormatAmzDate(now));
  store::s3::Signature sig = store::s3::SignV4(
      sr, store::s3::Credentials{admin.credentials.access_key, admin.credentials.secret_key, ""},
      store::s3::SigningScope{"us-east-1", "sts", now});
  headers = std::move(sr.headers);
  headers.emplace_back("Authorization", sig.authorization);
}

}  // namespace dbbackup::testing
