// warden tokenizer throughput: encodes every document of a JSON array of strings, one
// cold pass (empty pre-token cache) then `--repeat` warm passes; prints one JSON object.
//   tokenizer_bench --tokenizer FILE --corpus FILE [--repeat 3] [--threads 1]
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "warden/engine/tokenizer/tokenizer.hpp"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string tokenizer_path, corpus_path;
  int repeat = 3, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokenizer")) tokenizer_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--corpus")) corpus_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  if (tokenizer_path.empty() || corpus_path.empty()) {
    std::fprintf(stderr, "usage: tokenizer_bench --tokenizer FILE --corpus FILE [--repeat N] [--threads T]\n");
    return 2;
  }
  simdjson::dom::parser parser;
  auto corpus_json = simdjson::padded_string::load(corpus_path);
  std::vector<std::string> docs;
  size_t bytes = 0;
  for (auto e : parser.parse(corpus_json.value()).get_array()) {
    docs.emplace_back(std::string_view(e));
    bytes += docs.back().size();
  }

  auto t0 = Clock::now();
  const auto tok = warden::engine::Tokenizer::load(tokenizer_path);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();

  auto pass = [&](int nthreads) {
    std::atomic<size_t> next{0}, tokens{0};
    auto work = [&] {
      size_t local = 0;
      for (size_t i; (i = next.fetch_add(1)) < docs.size();) local += tok.encode(docs[i]).size();
      tokens += local;
    };
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 1; t < nthreads; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    return std::make_pair(tokens.load(), std::chrono::duration<double>(Clock::now() - start).count());
  };
  const auto [cold_tokens, cold_s] = pass(1);
  double best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < repeat; ++r) {
    auto [n, s] = pass(1);
    tokens = n;
    best = std::min(best, s);
  }
  double best_mt = 1e30;
  if (threads > 1) {
    for (int r = 0; r < repeat; ++r) best_mt = std::min(best_mt, pass(threads).second);
  }
  std::printf("{\"docs\":%zu,\"bytes\":%zu,\"tokens\":%zu,\"load_s\":%.4f,\"cold_s\":%.4f,\"warm_s\":%.4f,"
              "\"cold_tok_s\":%.0f,\"warm_tok_s\":%.0f,\"threads\":%d,\"mt_tok_s\":%.0f}\n",
              docs.size(), bytes, tokens, load_s, cold_s, best, cold_tokens / cold_s, tokens / best, threads,
              threads > 1 ? tokens / best_mt : 0.0);
  return cold_tokens == tokens ? 0 : 1;
}
