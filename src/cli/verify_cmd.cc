#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/verify.h"

namespace dbbackup::cli {

int RunVerifyCommand(const CommandEnv& env, const VerifyFlags& flags) {
  engine::VerifyOptions opts;
  opts.key = flags.key;
  opts.deep = flags.deep;
  opts.temp_dir = env.config.tmp_dir;
  auto result = engine::RunVerify(env.engine, opts);
  if (env.progress) env.progress->Finish();
  if (!result.ok()) return ReportFailure(env, result.status());
  const engine::VerifyReport& r = *result;
  if (env.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : r.checks) {
      checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    nlohmann::json j = {{"key", r.key},
                        {"ok", r.ok},
                        {"deep", r.deep},
                        {"checks", checks},
                        {"duration_s", r.duration_s}};
    if (!r.ok) j["error"] = r.FirstFailure();
    j["credentials_source"] = CredentialsSourceJson(env);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s %s%s\n", r.ok ? "OK" : "FAILED", r.key.c_str(), r.deep ? " (deep)" : "");
    for (const auto& c : r.checks) {
      std::printf("  [%s] %-9s %s\n", c.ok ? "ok" : "!!", c.name.c_str(), c.detail.c_str());
    }
    if (r.ok && !r.deep) std::printf("  (--deep also downloads and checks the content)\n");
  }
  if (!r.ok) {
    std::fprintf(stderr, "dbbackup: error: backup %s failed verification: %s\n", r.key.c_str(),
                 r.FirstFailure().c_str());
    return 1;
  }
  return 0;
}

}  // namespace dbbackup::cli
