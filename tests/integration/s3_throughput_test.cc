// Upload and download throughput of one large file through S3ObjectStore
// (multipart Put, parallel ranged Get) to RGW, for bench/s3-throughput.sh.
// Runs only when DBB_S3_BENCH_FILE names the file; checks the round trip is
// bit-identical and prints "dbbackup upload|download: N MB in S s = R MB/s".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "env/clock.h"
#include "env/file_util.h"
#include "store/s3/s3_store.h"
#include "testing/aws_cli.h"
#include "testing/cli_sandbox.h"
#include "testing/s3_store_options.h"
#include "testing/s3_test_env.h"
#include "testing/temp_dir.h"

namespace dbbackup::testing {
namespace {

void Report(const char* what, uint64_t bytes, std::chrono::steady_clock::duration d) {
  double s = std::chrono::duration<double>(d).count();
  double mb = static_cast<double>(bytes) / 1e6;
  std::printf("dbbackup %s: %.0f MB in %.2f s = %.1f MB/s\n", what, mb, s, mb / s);
  std::fflush(stdout);
}

TEST(S3Throughput, LargeFileRoundTrip) {
  const char* file = std::getenv("DBB_S3_BENCH_FILE");
  if (file == nullptr) GTEST_SKIP() << "set DBB_S3_BENCH_FILE (bench/s3-throughput.sh does)";
  const TestS3Env& env = TestS3Env::Get();
  DBB_SKIP_UNLESS_S3(env, S3Server::kRgw);
  const char* bucket_env = std::getenv("DBB_S3_BENCH_BUCKET");
  const std::string bucket = bucket_env ? bucket_env : UniqueBucketName("bench");
  if (!bucket_env) {
    ASSERT_TRUE(CreateBucket(env.rgw_owner, bucket));
  }

  env::SystemClock clock;
  store::s3::S3Options o = S3OptionsFor(env.rgw_owner, bucket);
  o.sse = "none";
  auto store = store::NewS3ObjectStore(o, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  auto in = env::FileReader::Open(file);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  const uint64_t size = *(*in)->Size();
  store::PutOptions opts;
  opts.size_hint = size;
  auto start = std::chrono::steady_clock::now();
  auto put = (*store)->Put("bench/object", **in, opts);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  Report("upload", size, std::chrono::steady_clock::now() - start);

  ScopedTempDir dir;
  const std::string out_path = dir.File("download");
  start = std::chrono::steady_clock::now();
  auto reader = (*store)->Get("bench/object");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto out = env::FileWriter::Create(out_path);
  ASSERT_TRUE(out.ok());
  std::string buf(1 << 20, '\0');
  uint64_t got = 0;
  for (;;) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    ASSERT_TRUE((*out)->Write(buf.data(), *n).ok());
    got += *n;
  }
  ASSERT_TRUE((*out)->Close().ok());
  Report("download", got, std::chrono::steady_clock::now() - start);
  EXPECT_EQ(got, size);
  EXPECT_EQ(Md5OfFile(out_path), Md5OfFile(file));
  EXPECT_GE((*store)->ranged_get_buffers_peak(), 1u) << "the download did not use ranges";
  EXPECT_TRUE((*store)->Delete("bench/object").ok());
}

}  // namespace
}  // namespace dbbackup::testing
