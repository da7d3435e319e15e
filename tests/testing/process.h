// RunProcess: run a program to completion (fork/exec, no shell) and capture its
// exit code, stdout and stderr. For tests that drive the dbbackup binary, the aws
// CLI or sqlite3 as independent peers.
//
// Thread-safety: RunProcess may be called from several threads at once; it
// touches no global state (SIGPIPE is blocked only in the calling thread while it
// feeds the child's stdin).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace dbbackup::testing {

struct ProcessOptions {
  // Variables set (or overridden) in the child's environment, on top of this
  // process's environment.
  // Default: none.
  std::map<std::string, std::string> set_env;
  // Variables removed from the child's environment. An entry ending in '*'
  // removes every variable with that prefix ("AWS_*"). Applied before set_env.
  // Default: none.
  std::vector<std::string> unset_env;
  // Bytes written to the child's stdin, which is then closed.
  // Default: empty (the child sees EOF at once).
  std::string stdin_data;
  // Working directory of the child.
  // Default: empty, i.e. this process's working directory.
  std::string cwd;
  // After this long the child's whole process group gets SIGKILL.
  // Default: 120 s.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
};

struct ProcessResult {
  // The exit status; 128+N if killed by signal N (as a shell reports it); 127 if
  // the program could not be started (the reason is in stderr_text).
  int exit_code = -1;
  // True if the child ran into ProcessOptions::timeout and was killed.
  bool timed_out = false;
  std::string stdout_text;
  std::string stderr_text;

  bool ok() const { return exit_code == 0 && !timed_out; }
  // "exit 1\n--- stdout ---\n...\n--- stderr ---\n..." for failure messages.
  std::string Describe() const;
};

// Runs argv[0] (looked up in PATH as the child will see it, unless it contains a
// '/') with arguments argv[1..]. The child runs in its own process group, with
// stdin/stdout/stderr connected to pipes; output is captured in full, until
// every holder of the pipes has closed them (a background grandchild that keeps
// them open makes the call run into the timeout; the timeout kills the group).
// Never throws; failures to start show as exit_code 127.
// REQUIRES: !argv.empty().
// The environment a child gets: ours, minus options.unset_env (a trailing "*"
// matches a prefix), plus AWS_EC2_METADATA_DISABLED=true (no test reaches
// 169.254.169.254), plus options.set_env, as "NAME=value" strings.
std::vector<std::string> ChildEnvironment(const ProcessOptions& options);

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace dbbackup::testing
