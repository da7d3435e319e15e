// SigV4 signing cost per request: a multipart UploadPart PUT with the headers
// the client signs, and the derivation of the signing key alone (four
// HMAC-SHA256). With 8 MiB parts a 100 MB backup signs ~15 requests, so this
// should stay in the microseconds.
#include <benchmark/benchmark.h>

#include <chrono>

#include "store/s3/sigv4.h"

namespace {

namespace s3 = dbbackup::store::s3;

s3::SigningRequest UploadPartRequest() {
  s3::SigningRequest req;
  req.method = "PUT";
  req.path = "/translation-system-backups/backups/full/20240113_120000/database.db.gz";
  req.query = {{"partNumber", "7"}, {"uploadId", "2~abcdefGHIJKLmnopQRSTuvwxyz0123456789"}};
  req.headers = {{"host", "127.0.0.1:7480"},
                 {"x-amz-date", "20240113T120000Z"},
                 {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                 {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
                 {"content-length", "8388608"}};
  req.payload_hash = "UNSIGNED-PAYLOAD";
  return req;
}

void SignUploadPart(benchmark::State& state) {
  const auto req = UploadPartRequest();
  const s3::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const s3::SigningScope scope{"us-east-1", "s3", std::chrono::system_clock::now()};
  for (auto _ : state) benchmark::DoNotOptimize(s3::SignV4(req, creds, scope));
}

void DeriveKey(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(s3::DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                  "20240113", "us-east-1", "s3"));
}

}  // namespace

BENCHMARK(SignUploadPart);
BENCHMARK(DeriveKey);
