// One function per command; each only turns flags into engine options, calls
// one engine function and prints the result (human text or --json).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/config.h"
#include "cli/progress.h"
#include "engine/engine.h"
#include "store/object_store.h"

namespace dbbackup::cli {

// What every command gets from Main. Pointers outlive the command.
struct CommandEnv {
  Config config;
  // Where the S3 credentials came from (store_factory.h); empty in local
  // mode. Reported as "credentials_source" in --json output.
  std::string credentials_source;
  engine::EngineContext engine;
  bool json = false;
  ProgressLine* progress = nullptr;
};

struct BackupFlags {
  bool dry_run = false;
  bool no_prune = false;
};
struct RestoreFlags {
  std::string key;
  std::string to;
  bool no_safety_copy = false;
};
struct VerifyFlags {
  std::string key;
  bool deep = false;
};
struct PruneFlags {
  bool dry_run = false;
};

// Each returns the process exit code (0 success, 1 failure).
int RunBackupCommand(const CommandEnv& env, const BackupFlags& flags);
int RunListCommand(const CommandEnv& env);
int RunRestoreCommand(const CommandEnv& env, const RestoreFlags& flags);
int RunVerifyCommand(const CommandEnv& env, const VerifyFlags& flags);
int RunPruneCommand(const CommandEnv& env, const PruneFlags& flags);

// The "credentials_source" value of --json output: the source, or null in
// local mode.
nlohmann::json CredentialsSourceJson(const CommandEnv& env);

// Prints a failure as one line on stderr ("dbbackup: error: ...") and, with
// --json, as {"error": ..., "code": ...} on stdout. Returns 1.
int ReportFailure(const CommandEnv& env, const Status& status);

}  // namespace dbbackup::cli
