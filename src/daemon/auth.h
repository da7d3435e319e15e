// Where the daemon keeps its state and how the API token is found; shared by
// `dbbackup daemon` and the CLI commands that talk to it (--async, status).
//
// Token sources, first wins: DBBACKUP_API_TOKEN; the token file (--token-file,
// default <state dir>/api-token). The daemon creates the file on first start
// (mode 0600, 32 random hex characters); clients only read it.
//
// Thread-safety: functions are stateless.
#pragma once

#include <string>

#include "common/status.h"

namespace dbbackup::daemon {

// DBBACKUP_STATE_DIR if set and non-empty, else "./.dbbackup-state" (beside
// the .env and ./backups-local of the working directory).
std::string StateDir(const std::string& env_state_dir);

// <state_dir>/api-token.
std::string DefaultTokenFile(const std::string& state_dir);

// The token: `env_token` if non-empty; else the file's content (trimmed).
// With `create` and no file, writes a new random token there (mode 0600,
// O_EXCL so two daemons agree) and returns it. kNotFound if the file is
// absent and !create, kInvalidArgument if it is empty, kIOError otherwise.
Result<std::string> LoadToken(const std::string& env_token, const std::string& token_file,
                              bool create);

struct ListenAddress {
  std::string host;
  int port = 0;
};
// "HOST:PORT", ":PORT" (loopback), "PORT", "[::1]:PORT". Port 0 picks a free
// port. kInvalidArgument otherwise.
Result<ListenAddress> ParseListen(const std::string& text);

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& host);

// Constant-time comparison of two tokens.
bool TokenEquals(const std::string& a, const std::string& b);

}  // namespace dbbackup::daemon
