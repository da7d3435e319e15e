#include "testing/cli_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace dbbackup::testing {
namespace {

// The variables through which a developer's own configuration could reach
// dbbackup (or the aws CLI, or a Python dotenv): never inherited.
const std::vector<std::string> kScrubbed = {"AWS_*", "S3_*", "BACKUP_*", "DATABASE_PATH", "HOME"};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

CliSandbox::CliSandbox() {
  std::filesystem::create_directory(root_.path() / "work");
  std::filesystem::create_directory(root_.path() / "home");
}

std::string CliSandbox::WorkDir() const { return (root_.path() / "work").string(); }
std::string CliSandbox::Path(const std::string& name) const {
  return (root_.path() / "work" / name).string();
}
std::string CliSandbox::HomeDir() const { return (root_.path() / "home").string(); }

void CliSandbox::UseS3(const S3Target& target, const std::string& bucket) {
  Set("AWS_ACCESS_KEY_ID", target.credentials.access_key);
  Set("AWS_SECRET_ACCESS_KEY", target.credentials.secret_key);
  Set("AWS_REGION", target.region);
  Set("S3_ENDPOINT_URL", target.endpoint);
  Set("S3_BACKUP_BUCKET", bucket);
}

ProcessOptions CliSandbox::Options(std::chrono::milliseconds timeout) const {
  ProcessOptions options;
  options.unset_env = kScrubbed;
  // The AWS SDKs' files live in the sandbox's HOME; instance metadata is
  // never probed (ChildEnvironment) unless a test points it at loopback.
  options.set_env["AWS_CONFIG_FILE"] = HomeDir() + "/.aws/config";
  options.set_env["AWS_SHARED_CREDENTIALS_FILE"] = HomeDir() + "/.aws/credentials";
  options.set_env["AWS_EC2_METADATA_DISABLED"] = "true";
  for (const auto& [name, value] : env_) options.set_env[name] = value;
  options.set_env["HOME"] = HomeDir();
  options.cwd = WorkDir();
  options.timeout = timeout;
  return options;
}

ProcessResult CliSandbox::Run(const std::vector<std::string>& args,
                              std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {DbbackupBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, Options(timeout));
}

::testing::AssertionResult ParseJsonStdout(const ProcessResult& r, nlohmann::json* out) {
  // nlohmann's parse() rejects anything after the first document.
  nlohmann::json j = nlohmann::json::parse(r.stdout_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ::testing::AssertionFailure()
           << "stdout is not exactly one JSON document: " << r.Describe();
  }
  *out = std::move(j);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult OneErrorLine(const ProcessResult& r,
                                        const std::vector<std::string>& must_contain) {
  std::vector<std::string> errors;
  for (const std::string& line : SplitLines(r.stderr_text)) {
    if (line.starts_with("dbbackup: error: ")) {
      errors.push_back(line);
    } else if (!line.starts_with("dbbackup: local mode: ") &&
               !line.starts_with("dbbackup: credentials: ")) {
      return ::testing::AssertionFailure()
             << "unexpected stderr line '" << line << "': " << r.Describe();
    }
  }
  if (errors.size() != 1) {
    return ::testing::AssertionFailure() << "expected exactly one 'dbbackup: error:' line, got "
                                         << errors.size() << ": " << r.Describe();
  }
  for (const std::string& s : must_contain) {
    if (errors[0].find(s) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "the error line does not mention '" << s << "': " << errors[0];
    }
  }
  return ::testing::AssertionSuccess();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFileOrFail(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const ProcessOptions& options,
                                     const std::string& output_prefix)
    : out_path_(output_prefix + ".out"), err_path_(output_prefix + ".err") {
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> c_env;
  for (std::string& s : env_strings) c_env.push_back(s.data());
  c_env.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (std::string& s : args) c_args.push_back(s.data());
  c_args.push_back(nullptr);

  int out_fd = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    ADD_FAILURE() << "BackgroundProcess: cannot open output files " << output_prefix << ": "
                  << std::strerror(errno);
    for (int fd : {out_fd, err_fd, null_fd}) {
      if (fd >= 0) close(fd);
    }
    return;
  }
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (cwd != nullptr && chdir(cwd) != 0) _exit(127);
    execve(c_args[0], c_args.data(), c_env.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(null_fd);
  if (pid < 0) {
    ADD_FAILURE() << "BackgroundProcess: fork: " << std::strerror(errno);
    return;
  }
  setpgid(pid, pid);  // also here, so Kill() works even before the child ran
  pid_ = pid;
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !reaped_) {
    Kill(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t w = waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    reaped_ = true;
    exit_code_ = WIFEXITED(status)     ? WEXITSTATUS(status)
                 : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                       : -1;
    return false;
  }
  return true;
}

void BackgroundProcess::Kill(int sig) {
  if (pid_ > 0 && !reaped_) kill(-pid_, sig);
}

int BackgroundProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  WaitFor([this] { return !Running(); }, timeout, std::chrono::milliseconds(5));
  return reaped_ ? exit_code_ : -1;
}

void DeleteObjectsWithAws(const S3Target& target, const std::string& bucket,
                          const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    ProcessResult r = RunAws(target, {"s3api", "delete-object", "--bucket", bucket, "--key", key});
    EXPECT_TRUE(r.ok()) << r.Describe();
  }
}

::testing::AssertionResult AwsHeadObject(const S3Target& target, const std::string& bucket,
                                         const std::string& key, nlohmann::json* head) {
  ProcessResult r = RunAws(
      target, {"s3api", "head-object", "--bucket", bucket, "--key", key, "--output", "json"});
  if (!r.ok())
    return ::testing::AssertionFailure() << "head-object " << key << ": " << r.Describe();
  *head = nlohmann::json::parse(r.stdout_text, nullptr, /*allow_exceptions=*/false);
  if (head->is_discarded() || !head->is_object()) {
    return ::testing::AssertionFailure()
           << "head-object " << key << ": unparsable output " << r.stdout_text;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AwsCopyObject(const S3Target& target, const std::string& bucket,
                                         const std::string& source_key, const std::string& dest_key,
                                         const nlohmann::json& metadata) {
  ProcessResult r =
      RunAws(target, {"s3api", "copy-object", "--bucket", bucket, "--key", dest_key,
                      "--copy-source", bucket + "/" + source_key, "--metadata-directive", "REPLACE",
                      "--metadata", metadata.dump(), "--output", "json"});
  if (!r.ok()) {
    return ::testing::AssertionFailure()
           << "copy-object " << source_key << " -> " << dest_key << ": " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

namespace {
std::string HashOfFile(const std::string& tool, const std::string& path) {
  ProcessResult r = RunProcess({tool, "--", path});
  if (!r.ok() || r.stdout_text.size() < 32) {
    ADD_FAILURE() << tool << " " << path << ": " << r.Describe();
    return "";
  }
  return r.stdout_text.substr(0, r.stdout_text.find(' '));
}
}  // namespace

std::string Sha256OfFile(const std::string& path) { return HashOfFile("sha256sum", path); }
std::string Md5OfFile(const std::string& path) { return HashOfFile("md5sum", path); }

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace dbbackup::testing
