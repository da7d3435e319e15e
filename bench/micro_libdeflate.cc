// Raw libdeflate gzip on 1 MiB blocks (what each worker of the parallel gzip
// stage does), one thread, levels 4..9: speed and ratio side by side, to
// choose the libdeflate level behind "gzip level 6" (src/codec/
// parallel_gzip_stage.cc picks libdeflate N-1, N or N+1 by sampling zlib -N
// against them). The constraint is a ratio no worse than `gzip -6` on
// the same file: compare the ratio counter with the gzip -6 ratio in
// bench/results/latest.md.
#include <benchmark/benchmark.h>
#include <libdeflate.h>

#include <algorithm>
#include <vector>

#include "micro_input.h"

namespace {

void LibdeflateBlocks(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const auto& in = dbb_bench::MicroInput();
  constexpr size_t kBlock = 1 << 20;
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  std::vector<char> out(libdeflate_gzip_compress_bound(c, kBlock));
  size_t total_out = 0;
  for (auto _ : state) {
    total_out = 0;
    for (size_t off = 0; off < in.size(); off += kBlock) {
      size_t n = std::min(kBlock, in.size() - off);
      total_out += libdeflate_gzip_compress(c, in.data() + off, n, out.data(), out.size());
    }
    benchmark::DoNotOptimize(total_out);
  }
  libdeflate_free_compressor(c);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
  state.counters["ratio"] = total_out ? static_cast<double>(in.size()) / total_out : 0;
}

}  // namespace

BENCHMARK(LibdeflateBlocks)->DenseRange(4, 9)->Unit(benchmark::kMillisecond)->UseRealTime();
