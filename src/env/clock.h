// Clock: where time comes from. Only main builds a SystemClock; tests use
// FakeClock, whose Sleep advances virtual time instead of waiting.
//
// Thread-safety: all methods are safe to call from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dbbackup::env {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC), used for backup timestamps and retention.
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic time, used for durations and deadlines.
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  virtual void Sleep(std::chrono::milliseconds d) = 0;
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::now();
  }
  void Sleep(std::chrono::milliseconds d) override;
};

// Virtual time starting at `start`; Sleep and Advance move both clocks.
class FakeClock : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start) : now_us_(ToMicros(start)) {}
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point Monotonic() override;
  void Sleep(std::chrono::milliseconds d) override { Advance(d); }
  void Advance(std::chrono::microseconds d) { now_us_ += d.count(); }
  void Set(std::chrono::system_clock::time_point t) { now_us_ = ToMicros(t); }

 private:
  static int64_t ToMicros(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> now_us_;
};

}  // namespace dbbackup::env
