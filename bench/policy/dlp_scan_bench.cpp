// Hyperscan DLP scan throughput on one core (not a test; numbers go in the report).
// Build: see bench/policy/README.md. Prints MB/s for the raw Hyperscan pass and for the
// full scan (validation + span resolution) over prose with a realistic sprinkling of PII.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "warden/policy/dlp/dlp_engine.hpp"

using Clock = std::chrono::steady_clock;

static std::string corpus(size_t bytes, double pii_per_kb, bool numbers = true) {
  static const char* words[] = {"the", "gateway", "forwards", "requests", "to", "a", "model", "and", "returns",
                                "answers", "with", "usage", "tokens", "per", "team", "budget", "policy", "of",
                                "version", "1.2.3", "order", "#12345", "in", "2026-11-23", "latency", "p99"};
  static const char* pii[] = {"jane.doe@corp.example", "4111 1111 1111 1111", "+1 415 555 0132", "10.0.0.12",
                              "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE"};
  std::mt19937 rng(42);
  std::string s;
  s.reserve(bytes + 64);
  double next_pii = 1024.0 / pii_per_kb;
  while (s.size() < bytes) {
    if (pii_per_kb > 0 && s.size() >= next_pii) {
      s += pii[rng() % 6];
      next_pii += 1024.0 / pii_per_kb;
    } else {
      s += words[rng() % (numbers ? 26 : 18)];
    }
    s += (rng() % 12 == 0) ? ".\n" : " ";
  }
  s.resize(bytes);
  return s;
}

int main(int argc, char** argv) {
  warden::policy::DlpEngine engine({{"employee_id", "EMP-[0-9]{6}", "redact", {}}});
  for (int mode = 0; mode < 4; ++mode) {
    // 0: plain prose; 1: prose with version/order/date numbers; 2-3: plus PII
    double density = mode < 2 ? 0.0 : mode == 2 ? 0.5 : 4.0;
    for (size_t chunk : {size_t(2048), size_t(64 * 1024), size_t(1 << 20)}) {
      std::string text = corpus(chunk, density, mode != 0);
      size_t total = 0, matches = 0;
      auto t0 = Clock::now();
      while (Clock::now() - t0 < std::chrono::milliseconds(700)) {
        for (int i = 0; i < 16; ++i) {
          matches += engine.scan_raw(text);
          total += text.size();
        }
      }
      double raw_s = std::chrono::duration<double>(Clock::now() - t0).count();
      size_t total2 = 0, found = 0;
      t0 = Clock::now();
      while (Clock::now() - t0 < std::chrono::milliseconds(700)) {
        for (int i = 0; i < 16; ++i) {
          found += engine.scan(text).size();
          total2 += text.size();
        }
      }
      double full_s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf("%s pii/KB %.1f  chunk %7zu B   hyperscan %8.0f MB/s   full scan %8.0f MB/s   (%zu raw hits, %zu spans/pass)\n",
                  mode == 0 ? "prose  " : "numbers", density, chunk, total / raw_s / 1e6, total2 / full_s / 1e6, matches / std::max<size_t>(1, total / text.size()),
                  found / std::max<size_t>(1, total2 / text.size()));
    }
  }
  return 0;
}
