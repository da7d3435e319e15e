// Small ASCII string helpers shared by parsers of headers, config files and
// schedules. Locale-independent on purpose: protocol and config text is ASCII.
#pragma once

#include <string>
#include <string_view>

namespace dbbackup {

// `s` without leading and trailing spaces, tabs, CRs and LFs (a view into `s`).
inline std::string_view TrimWhitespace(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// `s` with ASCII letters lowered; other bytes unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace dbbackup
