// `warden model make-tiny` and `warden logits` as a user runs them: real processes.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/backend.hpp"

using warden::test::TempDir;

namespace {

struct Run {
  int code;
  std::string out;
};

// Runs WARDEN_BINARY with args (stderr folded into stdout).
Run run(const std::string& args) {
  std::string cmd = std::string(WARDEN_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::vector<float> parse_json_floats(const std::string& s) {
  std::vector<float> v;
  const char* p = s.c_str();
  REQUIRE(*p == '[');
  ++p;
  while (*p && *p != ']') {
    char* end;
    v.push_back(std::strtof(p, &end));
    REQUIRE(end != p);
    p = end;
    if (*p == ',') ++p;
  }
  return v;
}

}  // namespace

TEST_CASE("cli: make-tiny then logits prints the backend's logits exactly", "[model][cli]") {
  TempDir dir("cli");
  Run made = run("model make-tiny --arch llama --vocab tiny --vocab-size 320 --seed 5 --out " + dir.str());
  REQUIRE(made.code == 0);
  CHECK(made.out.find("LlamaForCausalLM") != std::string::npos);

  Run logits = run("logits --model " + dir.str() + " --ids 3,1,4,1,5,9,2,6");
  REQUIRE(logits.code == 0);
  std::vector<float> printed = parse_json_floats(logits.out);
  REQUIRE(printed.size() == 320);

  // The same computation through the library: %.9g round-trips fp32 exactly.
  auto backend = warden::engine::make_backend(dir.str(), "cpu");
  backend->allocate_kv(2, 16);
  warden::engine::ForwardBatch batch;
  batch.tokens = {3, 1, 4, 1, 5, 9, 2, 6};
  warden::engine::SequenceSlice s;
  s.num_new_tokens = 8;
  s.block_table = {1};
  s.need_logits = true;
  batch.seqs = {s};
  std::vector<float> direct;
  backend->forward(batch, direct);
  CHECK(printed == direct);

  Run chunked = run("logits --model " + dir.str() + " --ids 3,1,4,1,5,9,2,6 --chunk 3");
  REQUIRE(chunked.code == 0);
  auto c = parse_json_floats(chunked.out);
  REQUIRE(c.size() == 320);
  for (size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - direct[i]) <= 1e-5f);
}

TEST_CASE("cli: bad input exits non-zero with a message", "[model][cli]") {
  TempDir dir("cli-bad");
  REQUIRE(run("model make-tiny --vocab none --vocab-size 300 --out " + dir.str()).code == 0);
  Run r = run("logits --model " + dir.str() + " --ids 1,x");
  CHECK(r.code != 0);
  CHECK(r.out.find("--ids") != std::string::npos);
  r = run("logits --model " + dir.str() + " --ids 300");
  CHECK(r.code != 0);
  CHECK(r.out.find("vocab_size 300") != std::string::npos);
  r = run("logits --model " + dir.str() + "/missing --ids 1");
  CHECK(r.code != 0);
  CHECK(r.out.find("config.json") != std::string::npos);
  r = run("model make-tiny --arch llama");
  CHECK(r.code != 0);
  CHECK(r.out.find("--out DIR is required") != std::string::npos);
  r = run("model make-tiny --out " + dir.str() + " --dtype int4");
  CHECK(r.code != 0);
  CHECK(r.out.find("--dtype") != std::string::npos);
  CHECK(run("model frobnicate").code == 2);
}
