// writer: the concurrent application of the write-load scenario (issue 5).
//
//   writer --db PATH [--rate 500] [--duration SECONDS] [--sync normal|full]
//          [--out CSV]
//     Commits `rate` small transactions per second (WAL mode) on a fixed
//     schedule (commit i starts at t0 + i/rate, or at once if late) until
//     `duration` elapses or SIGTERM/SIGINT. Each transaction: BEGIN
//     IMMEDIATE; INSERT a row into bench_writes; UPDATE one users row;
//     COMMIT. Writes one CSV line per commit to --out:
//       start_epoch_s,latency_us
//     (latency = BEGIN to the return of COMMIT) and prints a JSON summary on
//     stdout at the end.
//
//   writer --stats CSV [--from EPOCH_S] [--to EPOCH_S]
//     JSON percentiles of the commits that started in [from, to].
//
// The schedule is open-loop, so a commit that is blocked does not make the
// next ones start later: the reported rate is what the database sustained.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

double EpochNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Sample {
  double start;
  double latency_us;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

void PrintStats(const std::vector<Sample>& s, double from, double to, const char* label) {
  std::vector<double> lat;
  double first = 0, last = 0;
  for (const auto& x : s) {
    if (x.start < from || x.start > to) continue;
    if (lat.empty()) first = x.start;
    last = x.start;
    lat.push_back(x.latency_us);
  }
  double span = last - first;
  double mean = 0;
  for (double v : lat) mean += v;
  if (!lat.empty()) mean /= static_cast<double>(lat.size());
  double mx = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  double p50 = Percentile(lat, 50), p99 = Percentile(lat, 99), p999 = Percentile(lat, 99.9);
  std::printf(
      "{\"label\":\"%s\",\"commits\":%zu,\"rate_per_s\":%.1f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
      label, lat.size(), span > 0 ? static_cast<double>(lat.size() - 1) / span : 0.0,
      mean / 1000, p50 / 1000, p99 / 1000, p999 / 1000, mx / 1000);
}

int Usage() {
  std::fprintf(stderr,
               "usage: writer --db PATH [--rate N] [--duration S] [--sync normal|full] "
               "[--out CSV]\n       writer --stats CSV [--from EPOCH_S] [--to EPOCH_S] "
               "[--label L]\n");
  return 2;
}

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "writer: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, out_path, stats_path, sync = "normal", label = "window";
  double rate = 500, duration = 1e9, from = 0, to = 1e18;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--db") db_path = v;
    else if (a == "--out") out_path = v;
    else if (a == "--rate") rate = std::atof(v.c_str());
    else if (a == "--duration") duration = std::atof(v.c_str());
    else if (a == "--sync") sync = v;
    else if (a == "--stats") stats_path = v;
    else if (a == "--from") from = std::atof(v.c_str());
    else if (a == "--to") to = std::atof(v.c_str());
    else if (a == "--label") label = v;
    else return Usage();
  }
  if (!stats_path.empty()) {
    FILE* f = std::fopen(stats_path.c_str(), "r");
    if (!f) {
      std::fprintf(stderr, "writer: cannot read %s\n", stats_path.c_str());
      return 1;
    }
    std::vector<Sample> s;
    Sample x;
    while (std::fscanf(f, "%lf,%lf", &x.start, &x.latency_us) == 2) s.push_back(x);
    std::fclose(f);
    PrintStats(s, from, to, label.c_str());
    return 0;
  }
  if (db_path.empty() || rate <= 0 || (sync != "normal" && sync != "full")) return Usage();

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "writer: cannot open %s\n", db_path.c_str());
    return 1;
  }
  sqlite3_busy_timeout(db, 10000);
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + sync + ";";
  if (!Exec(db, pragmas.c_str()) ||
      !Exec(db, "CREATE TABLE IF NOT EXISTS bench_writes(id INTEGER PRIMARY KEY, ts REAL, "
                "user_id INTEGER, payload TEXT)"))
    return 1;
  int64_t max_user = 1;
  {
    sqlite3_stmt* s;
    sqlite3_prepare_v2(db, "SELECT coalesce(max(id),1) FROM users", -1, &s, nullptr);
    if (s && sqlite3_step(s) == SQLITE_ROW) max_user = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_stmt *begin, *ins, *upd, *commit, *rollback;
  sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO bench_writes(ts,user_id,payload) VALUES(?,?,?)", -1, &ins,
                     nullptr);
  sqlite3_prepare_v2(db, "UPDATE users SET last_login=? WHERE id=?", -1, &upd, nullptr);
  sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr);
  sqlite3_prepare_v2(db, "ROLLBACK", -1, &rollback, nullptr);
  if (!begin || !ins || !upd || !commit || !rollback) {
    std::fprintf(stderr, "writer: prepare: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  std::vector<Sample> samples;
  samples.reserve(static_cast<size_t>(std::min(duration, 3600.0) * rate) + 16);
  uint64_t x = 88172645463325252ull, failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const double e0 = EpochNow();
  for (uint64_t i = 0; !g_stop; i++) {
    auto due = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / rate));
    if (std::chrono::duration<double>(due - t0).count() >= duration) break;
    std::this_thread::sleep_until(due);
    if (g_stop) break;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    auto a = std::chrono::steady_clock::now();
    double start = e0 + std::chrono::duration<double>(a - t0).count();
    bool ok = sqlite3_step(begin) == SQLITE_DONE;
    sqlite3_reset(begin);
    if (ok) {
      char payload[96];
      std::snprintf(payload, sizeof payload, "{\"op\":\"write\",\"n\":%llu,\"r\":%llu}",
                    static_cast<unsigned long long>(i), static_cast<unsigned long long>(x % 100000));
      sqlite3_bind_double(ins, 1, start);
      sqlite3_bind_int64(ins, 2, static_cast<int64_t>(x % static_cast<uint64_t>(max_user)) + 1);
      sqlite3_bind_text(ins, 3, payload, -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(ins) == SQLITE_DONE;
      sqlite3_reset(ins);
      sqlite3_bind_double(upd, 1, start);
      sqlite3_bind_int64(upd, 2, static_cast<int64_t>(x % static_cast<uint64_t>(max_user)) + 1);
      ok = ok && sqlite3_step(upd) == SQLITE_DONE;
      sqlite3_reset(upd);
      ok = ok && sqlite3_step(commit) == SQLITE_DONE;
      sqlite3_reset(commit);
    }
    if (!ok) {
      failures++;
      if (!sqlite3_get_autocommit(db)) {
        sqlite3_step(rollback);
        sqlite3_reset(rollback);
      }
      continue;
    }
    auto b = std::chrono::steady_clock::now();
    samples.push_back({start, std::chrono::duration<double, std::micro>(b - a).count()});
  }
  for (auto* s : {begin, ins, upd, commit, rollback}) sqlite3_finalize(s);
  sqlite3_close(db);
  if (!out_path.empty()) {
    FILE* f = std::fopen(out_path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "writer: cannot write %s\n", out_path.c_str());
      return 1;
    }
    for (const auto& s : samples) std::fprintf(f, "%.6f,%.1f\n", s.start, s.latency_us);
    std::fclose(f);
  }
  PrintStats(samples, 0, 1e18, "all");
  if (failures) std::fprintf(stderr, "writer: %llu failed transactions\n",
                             static_cast<unsigned long long>(failures));
  return failures ? 1 : 0;
}
