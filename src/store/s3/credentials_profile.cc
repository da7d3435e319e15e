#include "store/s3/credentials_profile.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "env/file_util.h"

namespace dbbackup::store::s3 {
namespace {

// Drops a " # comment" or " ; comment" at the end of a value.
std::string_view StripInlineComment(std::string_view v) {
  for (size_t i = 1; i < v.size(); ++i) {
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
      return TrimWhitespace(v.substr(0, i));
    }
  }
  return v;
}

std::string EnvOr(const EnvironmentMap& env, const std::string& name, std::string fallback) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

Result<IniSections> LoadFile(const std::string& path, bool* found) {
  *found = false;
  if (path.empty() || !env::PathExists(path)) return IniSections{};
  Result<std::string> text = env::ReadFileToString(path);
  if (!text.ok()) return Status::IOError("cannot read " + path + ": " + text.status().message());
  *found = true;
  return ParseIni(*text, path);
}

}  // namespace

Result<IniSections> ParseIni(std::string_view text, std::string_view file_name) {
  IniSections out;
  IniSection* section = nullptr;
  bool last_key_empty = false;  // the previous key opened a nested block
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string_view line = TrimWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (indented && last_key_empty) continue;  // nested setting
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(std::string(file_name) + " line " + std::to_string(line_no) +
                                     ": " + why);
    };
    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) return bad("section header without ']'");
      std::string name(TrimWhitespace(line.substr(1, close - 1)));
      if (name.empty()) return bad("empty section name");
      section = &out[name];
      last_key_empty = false;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return bad("expected 'key = value'");
    if (section == nullptr) return bad("setting outside of any [section]");
    std::string key = AsciiLower(TrimWhitespace(line.substr(0, eq)));
    if (key.empty()) return bad("empty key");
    std::string_view value = StripInlineComment(TrimWhitespace(line.substr(eq + 1)));
    (*section)[key] = std::string(value);
    last_key_empty = value.empty();
  }
  return out;
}

std::string SharedConfig::Profile::Get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? "" : it->second;
}

std::optional<SharedConfig::Profile> SharedConfig::Find(const std::string& name) const {
  auto cred = credentials.find(name);
  auto conf = config.find(name);
  if (cred == credentials.end() && conf == config.end()) return std::nullopt;
  Profile p;
  p.name = name;
  if (conf != config.end()) {
    p.values = conf->second;
    p.origin = config_path;
  }
  if (cred != credentials.end()) {
    for (const auto& [k, v] : cred->second) p.values[k] = v;
    if (conf == config.end() || cred->second.count("aws_access_key_id") ||
        !conf->second.count("aws_access_key_id")) {
      p.origin = credentials_path;
    }
  }
  return p;
}

Result<SharedConfig> LoadSharedConfig(const EnvironmentMap& env, const std::string& home) {
  SharedConfig sc;
  const std::string aws_dir = home.empty() ? "" : env::JoinPath(home, ".aws");
  sc.credentials_path = EnvOr(env, "AWS_SHARED_CREDENTIALS_FILE",
                              aws_dir.empty() ? "" : env::JoinPath(aws_dir, "credentials"));
  sc.config_path =
      EnvOr(env, "AWS_CONFIG_FILE", aws_dir.empty() ? "" : env::JoinPath(aws_dir, "config"));
  bool found = false;
  DBB_ASSIGN_OR_RETURN(sc.credentials, LoadFile(sc.credentials_path, &found));
  DBB_ASSIGN_OR_RETURN(IniSections config, LoadFile(sc.config_path, &found));
  for (auto& [name, values] : config) {
    std::string profile;
    if (name == "default") {
      profile = "default";
    } else if (name.starts_with("profile ") || name.starts_with("profile\t")) {
      profile = std::string(TrimWhitespace(std::string_view(name).substr(8)));
    } else {
      continue;  // [sso-session x], [services x], or a bare name (ignored, as the CLI does)
    }
    // "[profile default]" wins over "[default]", as in the AWS CLI.
    IniSection& dst = sc.config[profile];
    if (name == "default" && !dst.empty()) continue;
    dst = values;
  }
  return sc;
}

Result<std::string> ProfileRegion(const EnvironmentMap& env, const std::string& home) {
  DBB_ASSIGN_OR_RETURN(SharedConfig sc, LoadSharedConfig(env, home));
  std::optional<SharedConfig::Profile> p = sc.Find(ProfileName(env));
  return p ? p->Get("region") : std::string();
}

std::string ProfileName(const EnvironmentMap& env, bool* explicitly_set) {
  std::string name = EnvOr(env, "AWS_PROFILE", EnvOr(env, "AWS_DEFAULT_PROFILE", ""));
  if (explicitly_set != nullptr) *explicitly_set = !name.empty();
  return name.empty() ? "default" : name;
}

}  // namespace dbbackup::store::s3
