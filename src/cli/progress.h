// Progress on a terminal: one line on stderr, rewritten in place, shown only
// for transfers that take more than a couple of seconds, never with --json or
// when stderr is not a terminal.
//
// Thread-safety: Update may be called from one thread at a time.
#pragma once

#include <chrono>
#include <string>

#include "engine/engine.h"

namespace dbbackup::cli {

class ProgressLine {
 public:
  // enabled: whether to draw at all (the caller checks isatty and --json).
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { Finish(); }

  void Update(const engine::Progress& p);
  // Clears the line if one was drawn.
  void Finish();
  engine::ProgressFn Callback() {
    return [this](const engine::Progress& p) { Update(p); };
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  std::string phase_;
  Clock::time_point phase_start_;
  Clock::time_point last_draw_;
};

// "1,234,567"
std::string WithThousands(uint64_t n);

}  // namespace dbbackup::cli
