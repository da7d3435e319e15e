// Input data for the micro-benchmarks: the first 32 MiB of the file named by
// $DBB_MICRO_INPUT (bench/run.sh passes the generated database, so the codecs
// see real SQLite pages), or else deterministic synthetic text of the same
// flavour (words, numbers, JSON-ish fields, some hex ids).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace dbb_bench {

inline const std::string& MicroInput() {
  static const std::string data = [] {
    constexpr size_t kSize = 32u << 20;
    std::string s;
    if (const char* p = std::getenv("DBB_MICRO_INPUT"); p && *p) {
      std::ifstream f(p, std::ios::binary);
      s.resize(kSize);
      f.read(s.data(), static_cast<std::streamsize>(kSize));
      s.resize(static_cast<size_t>(f.gcount()));
      if (s.size() == kSize) return s;
      s.clear();
    }
    static const char* kWords[] = {"order",  "user",    "status",  "shipped", "payment",
                                   "the",    "of",      "account", "product", "search",
                                   "event",  "session", "update",  "create",  "delete",
                                   "review", "price",   "quality", "service", "network"};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    auto next = [&] {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      return x;
    };
    s.reserve(kSize);
    while (s.size() < kSize) {
      uint64_t r = next();
      switch (r % 8) {
        case 0: {
          static const char* d = "0123456789abcdef";
          s += "\"id\":\"";
          for (int i = 0; i < 16; i++) s += d[next() % 16];
          s += "\",";
          break;
        }
        case 1:
          s += std::to_string(next() % 100000);
          s += ',';
          break;
        default:
          s += kWords[(r >> 8) % 20];
          s += ' ';
      }
    }
    return s;
  }();
  return data;
}

}  // namespace dbb_bench
