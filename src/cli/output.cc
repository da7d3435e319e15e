#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace dbbackup::cli {

nlohmann::json CredentialsSourceJson(const CommandEnv& env) {
  if (env.credentials_source.empty()) return nullptr;
  return env.credentials_source;
}

int ReportFailure(const CommandEnv& env, const Status& status) {
  if (env.progress) env.progress->Finish();
  std::fprintf(stderr, "dbbackup: error: %s\n", status.message().c_str());
  if (env.json) {
    nlohmann::json j = {{"error", status.message()},
                        {"code", std::string(StatusCodeName(status.code()))}};
    std::printf("%s\n", j.dump().c_str());
  }
  return 1;
}

}  // namespace dbbackup::cli
