#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "engine/util.h"

namespace dbbackup::cli {

int RunListCommand(const CommandEnv& env) {
  catalog::ListOptions opts;
  opts.with_metadata = true;
  auto result = catalog::ListBackups(*env.engine.store, env.engine.prefix, opts);
  if (!result.ok()) return ReportFailure(env, result.status());
  if (env.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : *result) {
      nlohmann::json j = {{"key", e.key},
                          {"timestamp", catalog::FormatIsoTimestamp(e.timestamp)},
                          {"compressed_size", e.compressed_size}};
      // list's output stays the seed-compatible array; each entry says
      // which credentials read it.
      j["credentials_source"] = CredentialsSourceJson(env);
      if (e.metadata) {
        j["original_size"] = e.metadata->original_size;
        j["compression"] = e.metadata->compression.empty() ? catalog::CompressionFromKey(e.key)
                                                           : e.metadata->compression;
        if (e.compressed_size > 0) {
          j["ratio"] = static_cast<double>(e.metadata->original_size) /
                       static_cast<double>(e.compressed_size);
        }
        if (!e.metadata->sha256.empty()) j["sha256"] = e.metadata->sha256;
        if (e.metadata->tables >= 0) j["tables"] = e.metadata->tables;
        if (e.metadata->records >= 0) j["records"] = e.metadata->records;
      } else {
        j["original_size"] = nullptr;
        j["metadata_error"] = e.metadata_error;
      }
      arr.push_back(std::move(j));
    }
    std::printf("%s\n", arr.dump().c_str());
    return 0;
  }
  if (result->empty()) {
    std::printf("No backups in %s/%s\n", env.engine.store->Describe().c_str(),
                catalog::FullBackupsPrefix(env.engine.prefix).c_str());
    return 0;
  }
  std::printf("%-56s  %-20s  %12s  %12s  %6s\n", "KEY", "TIMESTAMP (UTC)", "ORIGINAL", "COMPRESSED",
              "RATIO");
  for (const auto& e : *result) {
    std::string original = "?", ratio = "?";
    if (e.metadata) {
      original = engine::HumanBytes(e.metadata->original_size);
      if (e.compressed_size > 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2fx",
                      static_cast<double>(e.metadata->original_size) /
                          static_cast<double>(e.compressed_size));
        ratio = buf;
      }
    }
    std::printf("%-56s  %-20s  %12s  %12s  %6s\n", e.key.c_str(),
                catalog::FormatIsoTimestamp(e.timestamp).c_str(), original.c_str(),
                engine::HumanBytes(e.compressed_size).c_str(), ratio.c_str());
  }
  std::printf("%zu backup%s in %s\n", result->size(), result->size() == 1 ? "" : "s",
              env.engine.store->Describe().c_str());
  return 0;
}

}  // namespace dbbackup::cli
