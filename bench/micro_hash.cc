// Hashing throughput: SHA-256 (stored with every backup, checked on every
// restore) and MD5 (Content-MD5 / ETag checks) through codec::Hasher, and the
// store's Md5Hasher, over 1 MiB updates as the stream stages feed them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "codec/hashing.h"
#include "micro_input.h"
#include "store/md5.h"

namespace {

using dbbackup::codec::HashAlgorithm;
using dbbackup::codec::Hasher;

void Hash(benchmark::State& state, HashAlgorithm alg) {
  const auto& in = dbb_bench::MicroInput();
  constexpr size_t kChunk = 1 << 20;
  Hasher h(alg);
  for (auto _ : state) {
    for (size_t off = 0; off < in.size(); off += kChunk)
      h.Update(in.data() + off, std::min(kChunk, in.size() - off));
    benchmark::DoNotOptimize(h.FinalHex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}

void StoreMd5(benchmark::State& state) {
  const auto& in = dbb_bench::MicroInput();
  constexpr size_t kChunk = 1 << 20;
  for (auto _ : state) {
    dbbackup::store::Md5Hasher h;
    for (size_t off = 0; off < in.size(); off += kChunk)
      h.Update(in.data() + off, std::min(kChunk, in.size() - off));
    benchmark::DoNotOptimize(h.HexDigest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}

}  // namespace

BENCHMARK_CAPTURE(Hash, sha256, HashAlgorithm::kSha256)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Hash, md5, HashAlgorithm::kMd5)->Unit(benchmark::kMillisecond);
BENCHMARK(StoreMd5)->Unit(benchmark::kMillisecond);
