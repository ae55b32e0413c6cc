// Encode throughput of accel::Tokenizer on a text file (one document per line): one thread
// (Encode in a loop) and batched over the global thread pool (EncodeBatch). Prints MB/s.
// usage: tokenizer_bench TOKENIZER_DIR CORPUS.txt
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "tokenizers/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_DIR CORPUS.txt\n", argv[0]);
    return 2;
  }
  auto tok = accel::Tokenizer::Load(argv[1]);
  if (!tok.ok()) {
    std::fprintf(stderr, "accel: %s\n", tok.status().ToString().c_str());
    return 2;
  }
  std::ifstream in(argv[2]);
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (std::string l; std::getline(in, l);) {
    bytes += l.size();
    lines.push_back(std::move(l));
  }
  using clock = std::chrono::steady_clock;
  size_t tokens = 0;
  auto t0 = clock::now();
  for (const auto& l : lines) {
    auto e = tok.value()->Encode(l, true);
    if (!e.ok()) {
      std::fprintf(stderr, "accel: %s\n", e.status().ToString().c_str());
      return 1;
    }
    tokens += e->size();
  }
  double single = std::chrono::duration<double>(clock::now() - t0).count();
  auto t1 = clock::now();
  auto batch = tok.value()->EncodeBatch(lines, true);
  double multi = std::chrono::duration<double>(clock::now() - t1).count();
  if (!batch.ok()) return 1;
  double mb = bytes / 1e6;
  std::printf("accel %s: %.1f MB, %zu tokens | 1 thread: %.2f MB/s | batch (%d threads): %.2f MB/s\n", argv[1], mb, tokens,
              mb / single, accel::ThreadPool::Global().num_threads(), mb / multi);
  return 0;
}
