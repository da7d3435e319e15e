#include "daemon/config.h"

#include <set>

#include "daemon/schedule.h"

// toml++ header-only, without exceptions: parse errors come back as values.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace dbbackup::daemon {
namespace {

using Env = std::map<std::string, std::string>;

Status Bad(const std::string& file, const std::string& what) {
  return Status::InvalidArgument(file + ": " + what);
}

// Reads table[key] as a string (expanded) into *out if present.
Status GetString(const toml::table& t, const std::string& key, const std::string& where,
                 const std::string& file, const Env& env, std::string* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  auto v = n->value<std::string>();
  if (!v || !n->is_string()) return Bad(file, where + "." + key + " must be a string");
  auto expanded = ExpandVariables(*v, env);
  if (!expanded.ok()) return Bad(file, where + "." + key + ": " + expanded.status().message());
  *out = *expanded;
  return Status::OK();
}

Status GetInt(const toml::table& t, const std::string& key, const std::string& where,
              const std::string& file, int min, std::optional<int>* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  if (!n->is_integer()) return Bad(file, where + "." + key + " must be an integer");
  int64_t v = *n->value<int64_t>();
  if (v < min || v > 1'000'000) {
    return Bad(file, where + "." + key + " must be >= " + std::to_string(min));
  }
  *out = static_cast<int>(v);
  return Status::OK();
}

Status GetBool(const toml::table& t, const std::string& key, const std::string& where,
               const std::string& file, std::optional<bool>* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  if (!n->is_boolean()) return Bad(file, where + "." + key + " must be true or false");
  *out = *n->value<bool>();
  return Status::OK();
}

Status CheckKeys(const toml::table& t, const std::set<std::string>& allowed,
                 const std::string& where, const std::string& file) {
  for (const auto& [k, v] : t) {
    if (!allowed.contains(std::string(k.str()))) {
      return Bad(file, "unknown key " + where + "." + std::string(k.str()));
    }
  }
  return Status::OK();
}

const std::set<std::string> kDefaultKeys = {"schedule",       "timezone",          "jitter",
                                            "retention_days", "min_keep",          "compression",
                                            "webhook_url",    "webhook_on_success"};

Status ReadCommon(const toml::table& t, const std::string& where, const std::string& file,
                  const Env& env, DatabaseEntry* e) {
  DBB_RETURN_IF_ERROR(GetString(t, "schedule", where, file, env, &e->schedule));
  DBB_RETURN_IF_ERROR(GetString(t, "timezone", where, file, env, &e->timezone));
  DBB_RETURN_IF_ERROR(GetString(t, "jitter", where, file, env, &e->jitter));
  DBB_RETURN_IF_ERROR(GetString(t, "compression", where, file, env, &e->compression));
  DBB_RETURN_IF_ERROR(GetInt(t, "retention_days", where, file, 0, &e->retention_days));
  DBB_RETURN_IF_ERROR(GetInt(t, "min_keep", where, file, 1, &e->min_keep));
  DBB_RETURN_IF_ERROR(GetString(t, "webhook_url", where, file, env, &e->webhook_url));
  DBB_RETURN_IF_ERROR(GetBool(t, "webhook_on_success", where, file, &e->webhook_on_success));
  return Status::OK();
}

}  // namespace

Result<std::string> ExpandVariables(std::string_view s, const Env& env) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, 2) == "${") {
      size_t close = s.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("unterminated ${ in '" + std::string(s) + "'");
      }
      std::string name(s.substr(i + 2, close - i - 2));
      auto it = env.find(name);
      if (name.empty() || it == env.end()) {
        return Status::InvalidArgument("environment variable " + name + " is not set");
      }
      out += it->second;
      i = close + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

Result<DaemonFileConfig> ParseDaemonConfig(std::string_view text, const std::string& file,
                                           const Env& env) {
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    const auto& err = parsed.error();
    return Bad(file, "line " + std::to_string(err.source().begin.line) + ": " +
                         std::string(err.description()));
  }
  const toml::table& root = parsed.table();
  DBB_RETURN_IF_ERROR(CheckKeys(root, {"daemon", "defaults", "database"}, "", file));
  DaemonFileConfig config;
  if (const toml::node* d = root.get("daemon")) {
    if (!d->is_table()) return Bad(file, "[daemon] must be a table");
    const toml::table& t = *d->as_table();
    DBB_RETURN_IF_ERROR(CheckKeys(t, {"listen", "state_dir"}, "daemon", file));
    DBB_RETURN_IF_ERROR(GetString(t, "listen", "daemon", file, env, &config.listen));
    DBB_RETURN_IF_ERROR(GetString(t, "state_dir", "daemon", file, env, &config.state_dir));
  }
  DatabaseEntry defaults;
  if (const toml::node* d = root.get("defaults")) {
    if (!d->is_table()) return Bad(file, "[defaults] must be a table");
    DBB_RETURN_IF_ERROR(CheckKeys(*d->as_table(), kDefaultKeys, "defaults", file));
    DBB_RETURN_IF_ERROR(ReadCommon(*d->as_table(), "defaults", file, env, &defaults));
  }
  const toml::node* dbs = root.get("database");
  if (dbs == nullptr || !dbs->is_array_of_tables() || dbs->as_array()->empty()) {
    return Bad(file, "no [[database]] entries");
  }
  std::set<std::string> names;
  std::set<std::string> keys = kDefaultKeys;
  keys.insert({"name", "path", "bucket", "prefix", "endpoint", "region", "local_dir"});
  int index = 0;
  for (const toml::node& n : *dbs->as_array()) {
    const std::string where = "database[" + std::to_string(index++) + "]";
    const toml::table& t = *n.as_table();
    DBB_RETURN_IF_ERROR(CheckKeys(t, keys, where, file));
    DatabaseEntry e = defaults;
    DBB_RETURN_IF_ERROR(ReadCommon(t, where, file, env, &e));
    DBB_RETURN_IF_ERROR(GetString(t, "path", where, file, env, &e.path));
    DBB_RETURN_IF_ERROR(GetString(t, "name", where, file, env, &e.name));
    DBB_RETURN_IF_ERROR(GetString(t, "bucket", where, file, env, &e.bucket));
    DBB_RETURN_IF_ERROR(GetString(t, "prefix", where, file, env, &e.prefix));
    DBB_RETURN_IF_ERROR(GetString(t, "endpoint", where, file, env, &e.endpoint));
    DBB_RETURN_IF_ERROR(GetString(t, "region", where, file, env, &e.region));
    DBB_RETURN_IF_ERROR(GetString(t, "local_dir", where, file, env, &e.local_dir));
    if (e.path.empty()) return Bad(file, where + " has no path");
    if (e.name.empty()) {
      size_t slash = e.path.rfind('/');
      e.name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    }
    if (!names.insert(e.name).second) {
      return Bad(file, where + ": database name '" + e.name + "' is used twice");
    }
    auto jitter = std::chrono::seconds(0);
    if (!e.jitter.empty()) {
      auto j = ParseDuration(e.jitter);
      if (!j.ok()) return Bad(file, where + ".jitter: " + j.status().message());
      jitter = *j;
    }
    auto s = ParseSchedule(e.schedule, e.timezone, jitter);
    if (!s.ok()) return Bad(file, where + ": " + s.status().message());
    config.databases.push_back(std::move(e));
  }
  return config;
}

}  // namespace dbbackup::daemon
