#include "testing/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

extern char** environ;

namespace dbbackup::testing {

std::vector<std::string> ChildEnvironment(const ProcessOptions& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const std::string& name : options.unset_env) {
    if (!name.empty() && name.back() == '*') {
      std::string prefix = name.substr(0, name.size() - 1);
      for (auto it = env.begin(); it != env.end();) {
        it = it->first.starts_with(prefix) ? env.erase(it) : std::next(it);
      }
    } else {
      env.erase(name);
    }
  }
  // No child of a test may probe the EC2 instance metadata address (the aws
  // CLI and dbbackup both would): a test that wants it sets this itself.
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  for (const auto& [name, value] : options.set_env) env[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

namespace {

// Resolves a program name the way execvp would, but with the child's PATH.
std::string ResolveProgram(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : env) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;  // exec fails with ENOENT and the child reports it
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Writes to a pipe without letting SIGPIPE kill us if the reader has gone: the
// signal is blocked in this thread and a pending one is consumed afterwards.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = write(fd, data, size);
  int saved_errno = errno;
  if (n < 0 && saved_errno == EPIPE) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return n;
}

}  // namespace

std::string ProcessResult::Describe() const {
  std::string out = timed_out ? "timed out (killed)" : "exit " + std::to_string(exit_code);
  out += "\n--- stdout ---\n" + stdout_text + "\n--- stderr ---\n" + stderr_text;
  return out;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  if (argv.empty()) {
    result.exit_code = 127;
    result.stderr_text = "RunProcess: empty argv";
    return result;
  }
  // Everything the child needs is prepared before fork(): after fork only
  // async-signal-safe calls are allowed in a multi-threaded process.
  std::vector<std::string> env = ChildEnvironment(options);
  std::string program = ResolveProgram(argv[0], env);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();

  int in_pipe[2], out_pipe[2], err_pipe[2], exec_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    result.exit_code = 127;
    result.stderr_text = std::string("RunProcess: pipe: ") + std::strerror(errno);
    return result;
  }

  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int err = 0;
    if (cwd != nullptr && chdir(cwd) != 0) {
      err = errno;
    } else {
      execve(program.c_str(), c_args.data(), c_env.data());
      err = errno;
    }
    // Tell the parent why we could not run (exec_pipe is close-on-exec, so the
    // parent reads EOF instead when exec succeeds).
    ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(exec_pipe[1]);
  if (pid < 0) {
    result.exit_code = 127;
    result.stderr_text = std::string("RunProcess: fork: ") + std::strerror(errno);
    for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0], exec_pipe[0]}) close(fd);
    return result;
  }

  int exec_errno = 0;
  ssize_t got = read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  close(exec_pipe[0]);
  if (got == sizeof exec_errno) {
    waitpid(pid, nullptr, 0);
    for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) close(fd);
    result.exit_code = 127;
    result.stderr_text = "RunProcess: cannot run " + argv[0] +
                         (options.cwd.empty() ? "" : " in " + options.cwd) + ": " +
                         std::strerror(exec_errno);
    return result;
  }

  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t in_written = 0;
  if (options.stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const int64_t deadline = NowMs() + options.timeout.count();
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    int64_t left = deadline - NowMs();
    if (left <= 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    int ready = poll(fds, n, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = WriteNoSigpipe(in_fd, options.stdin_data.data() + in_written,
                                   options.stdin_data.size() - in_written);
        if (w > 0) in_written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN) || in_written == options.stdin_data.size()) {
          close(in_fd);  // all written, or the child stopped reading
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == out_fd ? result.stdout_text : result.stderr_text).append(buf, r);
      } else if (r == 0 || errno != EAGAIN) {
        close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) close(fd);
  }

  // The output pipes are closed; wait for the exit, still honouring the deadline
  // (a child may close its stdout and stderr and keep running).
  int status = 0;
  pid_t w;
  while ((w = waitpid(pid, &status, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) {
    if (!result.timed_out && NowMs() >= deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
    }
    usleep(2000);
  }
  if (w < 0) {
    result.exit_code = -1;
    result.stderr_text += std::string("\nRunProcess: waitpid: ") + std::strerror(errno);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace dbbackup::testing
