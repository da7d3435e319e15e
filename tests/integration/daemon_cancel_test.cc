// SIGTERM during a long multipart upload with a short grace period: the
// daemon cancels the backup, the upload is aborted (RGW holds no multipart
// upload and no object afterwards) and it exits 0. The upload goes through
// a throttling proxy so the test can catch it in the middle.
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/daemon_process.h"
#include "testing/throttling_proxy.h"

namespace dbbackup::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using DaemonCancelTest = DaemonS3Fixture;

// The bucket's unfinished multipart uploads (their keys), or nullopt if the
// aws CLI fails.
std::optional<std::vector<std::string>> MultipartUploads(const S3Target& target,
                                                         const std::string& bucket) {
  ProcessResult r =
      RunAws(target, {"s3api", "list-multipart-uploads", "--bucket", bucket, "--output", "json"});
  if (!r.ok()) return std::nullopt;
  std::vector<std::string> keys;
  if (r.stdout_text.find_first_not_of(" \n") == std::string::npos) return keys;  // none
  auto j = nlohmann::json::parse(r.stdout_text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  if (j.contains("Uploads") && j["Uploads"].is_array()) {
    for (const auto& u : j["Uploads"]) keys.push_back(u.value("Key", ""));
  }
  return keys;
}

TEST_F(DaemonCancelTest, SigtermPastTheGracePeriodAbortsTheMultipartUploadAndExitsZero) {
  // 96 MiB of incompressible data, stored uncompressed: 12 parts of 8 MiB,
  // sent at 8 MiB/s.
  ProcessResult init =
      RunProcess({"sqlite3", box_.Path("app.db"),
                  "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB);"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 96) "
                  "INSERT INTO blobs(data) SELECT randomblob(1048576) FROM c;"});
  ASSERT_TRUE(init.ok()) << init.Describe();
  ThrottlingProxy proxy(PortOfEndpoint(env_.rgw_owner.endpoint), 8u << 20);
  ASSERT_TRUE(proxy.ok());
  box_.Set("S3_ENDPOINT_URL", proxy.Endpoint());
  box_.Set("BACKUP_COMPRESSION", "none");
  DaemonProcess d(box_, {"--grace-period", "1"});
  ASSERT_TRUE(d.WaitListening());
  nlohmann::json job = d.Post("/api/jobs", R"({"kind":"backup"})");
  ASSERT_TRUE(job.is_object()) << job;
  const std::string id = job["id"];

  // RGW holds an unfinished multipart upload for the backup key.
  std::vector<std::string> uploads;
  ASSERT_TRUE(WaitFor(
      [&] {
        uploads = MultipartUploads(env_.rgw_owner, bucket_).value_or(std::vector<std::string>{});
        return !uploads.empty() || d.Finished(id);
      },
      seconds(60), milliseconds(200)))
      << d.process().Stderr();
  ASSERT_FALSE(d.Finished(id)) << "the upload was over before it could be caught: " << d.Job(id);
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_TRUE(uploads[0].starts_with("backups/full/")) << uploads[0];
  EXPECT_LT(proxy.Forwarded(), 90u << 20);

  EXPECT_EQ(d.Stop(seconds(90)), 0) << d.process().Stderr();
  const std::string log = d.process().Stderr();
  EXPECT_NE(log.find("the grace period is over: cancelling it"), std::string::npos) << log;
  EXPECT_EQ(log.find("exiting without it"), std::string::npos) << log;  // it did end

  // Nothing left: no object, no multipart upload.
  auto after = MultipartUploads(env_.rgw_owner, bucket_);
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->empty()) << nlohmann::json(*after);
  std::vector<std::string> keys;
  ASSERT_TRUE(ListKeys(env_.rgw_owner, bucket_, "", &keys));
  EXPECT_TRUE(keys.empty()) << nlohmann::json(keys);

  // The job's record says it was cancelled.
  box_.Set("S3_ENDPOINT_URL", env_.rgw_owner.endpoint);
  DaemonProcess again(box_);
  ASSERT_TRUE(again.WaitListening());
  nlohmann::json record = again.Job(id);
  EXPECT_EQ(record["state"], "failed") << record;
  EXPECT_NE(record["error"].get<std::string>().find("cancelled"), std::string::npos) << record;
  EXPECT_EQ(again.Stop(), 0);
}

}  // namespace
}  // namespace dbbackup::testing
