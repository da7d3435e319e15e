#include "cli/config.h"

#include <charconv>
#include <cstring>

extern char** environ;

namespace dbbackup::cli {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

bool ValidName(const std::string& k) {
  if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0]))) return false;
  for (char c : k) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  }
  return true;
}

Status ParseInt(const std::string& name, const std::string& value, int min, int* out) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || v < min) {
    return Status::InvalidArgument("invalid " + name + " '" + value + "': expected a whole number" +
                                   (min == 0 ? " >= 0" : " >= " + std::to_string(min)));
  }
  *out = v;
  return Status::OK();
}

}  // namespace

Result<bool> ParseBool(const std::string& name, const std::string& value) {
  std::string v;
  for (char c : value) v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return Status::InvalidArgument("invalid " + name + " '" + value + "': expected true or false");
}

Result<EnvMap> ParseDotEnv(const std::string& text) {
  EnvMap out;
  size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(".env line " + std::to_string(line_no) +
                                     ": expected KEY=VALUE");
    }
    std::string key = Trim(t.substr(0, eq));
    if (!ValidName(key)) {
      return Status::InvalidArgument(".env line " + std::to_string(line_no) +
                                     ": invalid variable name '" + key + "'");
    }
    std::string raw = Trim(t.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
      char q = raw[0];
      size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == q) {
          closed = true;
          break;
        }
        if (q == '"' && c == '\\' && i + 1 < raw.size()) {
          char n = raw[++i];
          value.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
        } else {
          value.push_back(c);
        }
      }
      if (!closed) {
        return Status::InvalidArgument(".env line " + std::to_string(line_no) +
                                       ": unterminated quote");
      }
    } else {
      size_t hash = raw.find(" #");
      if (hash == std::string::npos) hash = raw.find("\t#");
      value = Trim(hash == std::string::npos ? raw : raw.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

EnvMap ProcessEnvironment() {
  EnvMap out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    out.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return out;
}

Result<Config> LoadConfig(const EnvMap& env, const EnvMap& dotenv, const std::string& dotenv_name) {
  // The environment wins over .env; empty values count as unset.
  auto lookup = [&](const char* name, std::string* source = nullptr) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) {
      if (source) *source = "environment";
      return it->second;
    }
    it = dotenv.find(name);
    if (it != dotenv.end() && !it->second.empty()) {
      if (source) *source = dotenv_name;
      return it->second;
    }
    return std::nullopt;
  };
  Config c;
  c.chain_env = dotenv;
  for (const auto& [name, value] : env) c.chain_env[name] = value;
  if (auto v = lookup("AWS_ACCESS_KEY_ID", &c.credential_source)) c.access_key_id = *v;
  if (c.credential_source == dotenv_name) c.credential_source = ".env file " + dotenv_name;
  if (auto v = lookup("AWS_SECRET_ACCESS_KEY")) c.secret_access_key = *v;
  if (auto v = lookup("AWS_SESSION_TOKEN")) c.session_token = *v;
  if (auto v = lookup("AWS_REGION")) {
    c.region = *v;
  } else if (auto d = lookup("AWS_DEFAULT_REGION")) {
    c.region = *d;
  }
  if (auto v = lookup("S3_BACKUP_BUCKET")) c.bucket = *v;
  for (const char* name : {"S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (auto v = lookup(name)) {
      c.endpoint = *v;
      break;
    }
  }
  if (auto v = lookup("S3_FORCE_PATH_STYLE")) {
    DBB_ASSIGN_OR_RETURN(bool b, ParseBool("S3_FORCE_PATH_STYLE", *v));
    c.force_path_style = b;
  }
  if (auto v = lookup("BACKUP_SSE")) c.sse = *v;
  if (auto v = lookup("BACKUP_SSE_KMS_KEY_ID")) c.sse_kms_key_id = *v;
  if (auto v = lookup("BACKUP_SSE_CUSTOMER_KEY_FILE")) c.sse_customer_key_file = *v;
  if (auto v = lookup("BACKUP_S3_CA_BUNDLE")) {
    c.ca_bundle = *v;
  } else if (auto a = lookup("AWS_CA_BUNDLE")) {
    c.ca_bundle = *a;
  }
  if (auto v = lookup("BACKUP_S3_UNSIGNED_PAYLOAD")) {
    DBB_ASSIGN_OR_RETURN(c.unsigned_payload, ParseBool("BACKUP_S3_UNSIGNED_PAYLOAD", *v));
  }
  if (auto v = lookup("BACKUP_S3_MAX_ATTEMPTS")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_S3_MAX_ATTEMPTS", *v, 1, &c.s3_max_attempts));
  }
  if (auto v = lookup("BACKUP_S3_CONNECT_TIMEOUT")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_S3_CONNECT_TIMEOUT", *v, 1, &c.s3_connect_timeout_s));
  }
  if (auto v = lookup("BACKUP_S3_STALL_TIMEOUT")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_S3_STALL_TIMEOUT", *v, 1, &c.s3_stall_timeout_s));
  }
  if (auto v = lookup("DATABASE_PATH")) c.database_path = *v;
  if (auto v = lookup("BACKUP_PREFIX")) c.prefix = *v;
  if (auto v = lookup("BACKUP_RETENTION_DAYS")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_RETENTION_DAYS", *v, 0, &c.retention_days));
  }
  if (auto v = lookup("BACKUP_MIN_KEEP")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_MIN_KEEP", *v, 1, &c.min_keep));
  }
  if (auto v = lookup("BACKUP_COMPRESSION")) c.compression = *v;
  if (auto v = lookup("BACKUP_COMPRESSION_LEVEL")) {
    DBB_RETURN_IF_ERROR(ParseInt("BACKUP_COMPRESSION_LEVEL", *v, 0, &c.compression_level));
  }
  if (auto v = lookup("BACKUP_LOCAL_DIR")) {
    c.local_dir = *v;
    c.local_dir_set = true;
  }
  if (auto v = lookup("BACKUP_TMP_DIR")) c.tmp_dir = *v;
  return c;
}

Status ValidateConfig(const Config& c) {
  if (c.LocalMode()) return Status::OK();
  if (c.bucket.empty()) {
    return Status::InvalidArgument(
        "AWS credentials are set but S3_BACKUP_BUCKET is not: set the bucket (or unset "
        "AWS_ACCESS_KEY_ID for local mode)");
  }
  // Without static keys the credentials chain looks further (profiles, web
  // identity, container, instance metadata); half a pair is a mistake.
  if (!c.access_key_id.empty() && c.secret_access_key.empty()) {
    return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set (from " + c.credential_source +
                                   ") but AWS_SECRET_ACCESS_KEY is not: set both");
  }
  if (c.access_key_id.empty() && !c.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both");
  }
  if (c.sse != "AES256" && c.sse != "aws:kms" && c.sse != "SSE-C" && c.sse != "none" &&
      !c.sse.empty()) {
    return Status::InvalidArgument("invalid BACKUP_SSE '" + c.sse +
                                   "': expected AES256, aws:kms, SSE-C or none");
  }
  if (!c.sse_kms_key_id.empty() && c.sse != "aws:kms") {
    return Status::InvalidArgument("BACKUP_SSE_KMS_KEY_ID is set but BACKUP_SSE is '" + c.sse +
                                   "', not aws:kms");
  }
  if (c.sse == "SSE-C" && c.sse_customer_key_file.empty()) {
    return Status::InvalidArgument(
        "BACKUP_SSE=SSE-C needs BACKUP_SSE_CUSTOMER_KEY_FILE (a file holding the 32-byte key, "
        "raw or base64)");
  }
  if (!c.sse_customer_key_file.empty() && c.sse != "SSE-C") {
    return Status::InvalidArgument("BACKUP_SSE_CUSTOMER_KEY_FILE is set but BACKUP_SSE is '" +
                                   c.sse + "', not SSE-C");
  }
  if (c.unsigned_payload && !c.endpoint.starts_with("https://") && !c.endpoint.empty()) {
    return Status::InvalidArgument(
        "BACKUP_S3_UNSIGNED_PAYLOAD=true is only allowed over https, and the endpoint is " +
        c.endpoint);
  }
  return Status::OK();
}

}  // namespace dbbackup::cli
