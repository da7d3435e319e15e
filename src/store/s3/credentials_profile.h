// The AWS shared config and credentials files (~/.aws/config,
// ~/.aws/credentials), read as the AWS CLI and SDKs read them:
// - INI sections; '#' and ';' start comment lines, and also a comment after
//   whitespace at the end of a value; indented lines under a key with an
//   empty value are nested settings (e.g. "s3 =") and are ignored;
// - keys are case-insensitive (stored lower-case), values trimmed;
// - in the config file a profile's section is "[profile NAME]", except
//   "[default]"; in the credentials file it is "[NAME]";
// - for the same key, the credentials file wins over the config file.
// Files: AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else
// $HOME/.aws/credentials / $HOME/.aws/config. Profile: AWS_PROFILE, else
// AWS_DEFAULT_PROFILE, else "default".
//
// Error messages name files and line numbers, never line contents (a bad
// line may hold a secret).
//
// Thread-safety: pure functions apart from reading files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/s3/credentials.h"

namespace dbbackup::store::s3 {

using IniSection = std::map<std::string, std::string>;
using IniSections = std::map<std::string, IniSection>;

// Parses INI text as described above; sections appearing twice are merged.
// kInvalidArgument naming `file_name` and the line for a line that is
// neither a section, a comment nor "key = value".
Result<IniSections> ParseIni(std::string_view text, std::string_view file_name);

struct SharedConfig {
  std::string credentials_path;
  std::string config_path;
  // Profiles by name ("[profile x]" already mapped to "x" for the config file).
  IniSections credentials;  // empty if the file does not exist
  IniSections config;       // empty if the file does not exist

  // The merged settings of profile `name`, with `origin` set to the file its
  // aws_access_key_id came from (else the file that defines it); nullopt if
  // neither file has the profile.
  struct Profile {
    std::string name;
    IniSection values;
    std::string origin;
    // values["key"] or "".
    std::string Get(const std::string& key) const;
  };
  std::optional<Profile> Find(const std::string& name) const;
};

// Reads both files. A missing file is not an error (its sections are empty);
// kIOError for one that exists but cannot be read; kInvalidArgument for a
// malformed one. `home` is used when the *_FILE variables are unset.
Result<SharedConfig> LoadSharedConfig(const EnvironmentMap& env, const std::string& home);

// The `region` of profile ProfileName(env) in the shared files, or "" if the
// profile or its region is absent (the CLI uses it when AWS_REGION and
// AWS_DEFAULT_REGION are unset, as the AWS CLI does). Errors as for
// LoadSharedConfig.
Result<std::string> ProfileRegion(const EnvironmentMap& env, const std::string& home);

// AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default"; `explicitly_set`
// tells whether a variable named it.
std::string ProfileName(const EnvironmentMap& env, bool* explicitly_set = nullptr);

}  // namespace dbbackup::store::s3
