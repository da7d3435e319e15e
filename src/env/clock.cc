#include "env/clock.h"

#include <thread>

namespace dbbackup::env {

void SystemClock::Sleep(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

std::chrono::system_clock::time_point FakeClock::Now() {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(now_us_.load()));
}

std::chrono::steady_clock::time_point FakeClock::Monotonic() {
  return std::chrono::steady_clock::time_point(std::chrono::microseconds(now_us_.load()));
}

}  // namespace dbbackup::env
