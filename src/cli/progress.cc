#include "cli/progress.h"

#include <cstdio>

#include "engine/util.h"

namespace dbbackup::cli {

void ProgressLine::Update(const engine::Progress& p) {
  if (!enabled_) return;
  auto now = Clock::now();
  if (p.phase != phase_) {
    phase_ = std::string(p.phase);
    phase_start_ = now;
  }
  // Quick transfers stay quiet; long ones redraw at most 5 times a second.
  if (now - phase_start_ < std::chrono::seconds(2)) return;
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200) &&
      !(p.total > 0 && p.done >= p.total)) {
    return;
  }
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - phase_start_).count();
  double rate = secs > 0 ? static_cast<double>(p.done) / secs : 0;
  std::string line = phase_ + " " + engine::HumanBytes(p.done);
  if (p.total > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.0f%%)",
                  100.0 * static_cast<double>(p.done) / static_cast<double>(p.total));
    line += " / " + engine::HumanBytes(p.total) + pct;
  }
  line += ", " + engine::HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++count;
  }
  return std::string(out.rbegin(), out.rend());
}

}  // namespace dbbackup::cli
