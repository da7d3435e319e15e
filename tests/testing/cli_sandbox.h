// Running the real dbbackup binary as a user would, for the CLI end-to-end
// tests (tests/integration/cli_*_test.cc).
//
// A CliSandbox is one user's world: a fresh working directory (work/) and a
// fresh HOME (home/), and an environment built from nothing but what the test
// sets: every AWS_*, S3_*, BACKUP_* and DATABASE_PATH variable inherited from
// the developer's shell is removed, so their settings never leak into a run.
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point into home/.aws/, and
// AWS_EC2_METADATA_DISABLED=true keeps runs from probing 169.254.169.254
// (a test may Set() them otherwise, e.g. to a loopback metadata server).
//
//   CliSandbox box;
//   box.UseS3(env.rgw_owner, bucket);
//   box.Set("DATABASE_PATH", box.Path("app.db"));
//   ProcessResult r = box.Run({"backup", "--json"});
//   nlohmann::json j;
//   ASSERT_TRUE(ParseJsonStdout(r, &j));
//
// Thread-safety: Run() and Options() may be called from several threads at
// once; Set/Unset/UseS3 may not run concurrently with anything else.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/aws_cli.h"
#include "testing/process.h"
#include "testing/s3_test_env.h"
#include "testing/temp_dir.h"

namespace dbbackup::testing {

class CliSandbox {
 public:
  // Creates work/ and home/ in a fresh ScopedTempDir.
  CliSandbox();

  // The working directory of every run, and `name` inside it.
  std::string WorkDir() const;
  std::string Path(const std::string& name) const;
  // HOME of every run.
  std::string HomeDir() const;

  // Sets (or removes) a variable of the runs' environment.
  void Set(const std::string& name, const std::string& value) { env_[name] = value; }
  void Unset(const std::string& name) { env_.erase(name); }
  const std::map<std::string, std::string>& Env() const { return env_; }

  // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, S3_ENDPOINT_URL and
  // S3_BACKUP_BUCKET for `target` and `bucket`.
  void UseS3(const S3Target& target, const std::string& bucket);

  // Runs `dbbackup ARGS...` in WorkDir() with this sandbox's environment.
  ProcessResult Run(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;
  // The ProcessOptions Run() uses (for BackgroundProcess, or to add stdin).
  ProcessOptions Options(std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;

 private:
  ScopedTempDir root_;
  std::map<std::string, std::string> env_;
};

// Succeeds if stdout is exactly one JSON document (surrounding whitespace
// allowed) and stores it in *out.
::testing::AssertionResult ParseJsonStdout(const ProcessResult& r, nlohmann::json* out);

// Succeeds if stderr holds exactly one line starting "dbbackup: error: "
// that contains every string of `must_contain` (case-sensitive), and no
// other lines except "dbbackup: local mode: ..." (local mode's notice) and
// "dbbackup: credentials: ..." (which source the S3 credentials came from).
::testing::AssertionResult OneErrorLine(const ProcessResult& r,
                                        const std::vector<std::string>& must_contain);

// Reads a whole file ("" plus a test failure if it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);
// Writes a whole file (a test failure if it cannot be written).
void WriteFileOrFail(const std::string& path, const std::string& data);

// A program running in the background (its own process group), with stdout
// and stderr going to files, so a test can watch it, kill it mid-work and
// then wait for it.
class BackgroundProcess {
 public:
  // Starts argv with `options` (set_env/unset_env/cwd honoured; stdin is
  // /dev/null; the timeout is ignored). stdout/stderr go to `output_prefix`
  // + ".out" / ".err". Check started() afterwards.
  BackgroundProcess(const std::vector<std::string>& argv, const ProcessOptions& options,
                    const std::string& output_prefix);
  // Kills the process group with SIGKILL if still running, and reaps it.
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it once it has).
  bool Running();
  // Sends `sig` to the process group.
  void Kill(int sig);
  // Waits up to `timeout` for the exit; returns the exit code (128+N for
  // signal N), or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  std::string Stdout() const { return ReadFileOrEmpty(out_path_); }
  std::string Stderr() const { return ReadFileOrEmpty(err_path_); }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  std::string out_path_;
  std::string err_path_;
};

// Deletes `keys` from `bucket` with the aws CLI as `target`'s user (a test
// failure for each that fails): the clean-up of tests sharing a bucket.
void DeleteObjectsWithAws(const S3Target& target, const std::string& bucket,
                          const std::vector<std::string>& keys);

// head-object with the aws CLI: the parsed response (ContentLength,
// Metadata with the user metadata, ...).
::testing::AssertionResult AwsHeadObject(const S3Target& target, const std::string& bucket,
                                         const std::string& key, nlohmann::json* head);

// Server-side copy of `source_key` to `dest_key` with the aws CLI, replacing
// the user metadata with `metadata` (a JSON object of strings).
::testing::AssertionResult AwsCopyObject(const S3Target& target, const std::string& bucket,
                                         const std::string& source_key, const std::string& dest_key,
                                         const nlohmann::json& metadata);

// The lower-case hex SHA-256 / MD5 of a file, from sha256sum / md5sum ("" and
// a test failure if they fail).
std::string Sha256OfFile(const std::string& path);
std::string Md5OfFile(const std::string& path);

// Polls `condition` every `interval` until it returns true or `timeout`
// passes; returns its last value.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = std::chrono::milliseconds(20));

}  // namespace dbbackup::testing
