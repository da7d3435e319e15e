// Logging: one line per event on a sink chosen by main (stderr by default).
// The CLI keeps stdout for results (--json), so logs never go there.
//
// Thread-safety: Log() may be called from any thread; lines never interleave.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace dbbackup::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError };

using Sink = std::function<void(Level, std::string_view)>;

// Replaces the sink and minimum level (process-wide; set by main and tests).
void SetSink(Sink sink);
void SetMinLevel(Level level);
Level MinLevel();

void Log(Level level, std::string_view message);
inline void Debug(std::string_view m) { Log(Level::kDebug, m); }
inline void Info(std::string_view m) { Log(Level::kInfo, m); }
inline void Warning(std::string_view m) { Log(Level::kWarning, m); }
inline void Error(std::string_view m) { Log(Level::kError, m); }

std::string_view LevelName(Level level);

}  // namespace dbbackup::log
