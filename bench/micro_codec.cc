// Codec throughput: the compressing and decompressing stream stages exactly as
// the backup and restore use them (src/codec/compression.h), gzip at level 6
// on 1 and N threads (N = the machine's cores: libdeflate blocks) and zstd
// at levels 1 and 3. Throughput is of the uncompressed bytes.
#include <benchmark/benchmark.h>

#include <string>
#include <thread>
#include <vector>

#include "codec/compression.h"
#include "common/io.h"
#include "micro_input.h"

namespace {

using dbbackup::Reader;
using dbbackup::StringReader;
using dbbackup::codec::Compression;
using dbbackup::codec::CompressOptions;

std::string CompressAll(Compression c, int level, int threads, benchmark::State* state) {
  StringReader src(dbb_bench::MicroInput());
  auto r = dbbackup::codec::NewCompressingReader(src, c, CompressOptions{level, threads});
  std::string out;
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = r->Read(buf.data(), buf.size());
    if (!n.ok()) {
      if (state) state->SkipWithError("compress failed");
      return out;
    }
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

void Compress(benchmark::State& state, Compression c, int level, int threads) {
  if (threads == 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  const auto& in = dbb_bench::MicroInput();
  size_t out_size = 0;
  for (auto _ : state) {
    std::string out = CompressAll(c, level, threads, &state);
    out_size = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
  state.counters["ratio"] = out_size ? static_cast<double>(in.size()) / out_size : 0;
  state.counters["threads"] = threads;
}

void Decompress(benchmark::State& state, Compression c, int level, int threads) {
  if (threads == 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  const auto& in = dbb_bench::MicroInput();
  const std::string packed = CompressAll(c, level, threads, nullptr);
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    StringReader src(packed);
    auto r = dbbackup::codec::NewDecompressingReader(src, c);
    size_t total = 0;
    for (;;) {
      auto n = r->Read(buf.data(), buf.size());
      if (!n.ok()) {
        state.SkipWithError("decompress failed");
        break;
      }
      if (*n == 0) break;
      total += *n;
    }
    if (total != in.size()) state.SkipWithError("decompressed size differs");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}

constexpr auto kGzip = Compression::kGzip;
constexpr auto kZstd = Compression::kZstd;

}  // namespace

// threads = 0: one per core.
BENCHMARK_CAPTURE(Compress, gzip6_1thread, kGzip, 6, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Compress, gzip6_Nthreads, kGzip, 6, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Compress, gzip1_Nthreads, kGzip, 1, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Compress, zstd1_Nthreads, kZstd, 1, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Compress, zstd3_1thread, kZstd, 3, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Compress, zstd3_Nthreads, kZstd, 3, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Decompress, gzip6_1member, kGzip, 6, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Decompress, gzip6_Nmembers, kGzip, 6, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Decompress, zstd3, kZstd, 3, 0)->Unit(benchmark::kMillisecond)->UseRealTime();
