// `warden logits --model DIR --ids 1,2,3`: the last position's logits (fp32) as a JSON
// array, computed by the real backend through its paged KV path. --chunk N feeds the
// prompt N tokens per step (chunked prefill) to exercise the cached-KV path. --greedy N
// then decodes N tokens greedily (argmax fed back, one decode step each) and prints
// {"logits": [...], "greedy": [ids]} instead: the HF comparison checks generations too.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/engine/backend.hpp"

namespace warden::cli {

namespace {

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v < 0 || v > INT32_MAX)
      throw std::invalid_argument("--ids must be comma-separated non-negative integers");
    ids.push_back(int32_t(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return ids;
}

}  // namespace

int logits(const Args& args) {
  CliArgs a(args, {"model", "ids", "device", "chunk", "greedy"});
  const std::string model = a.get_or("model", "");
  if (model.empty() || !a.get("ids")) {
    std::fprintf(stderr, "usage: warden logits --model DIR --ids 1,2,3 [--device auto|cpu|cuda:N] [--chunk N] [--greedy N]\n");
    return 2;
  }
  const std::vector<int32_t> ids = parse_ids(*a.get("ids"));
  const int32_t chunk = a.get("chunk") ? std::stoi(*a.get("chunk")) : int32_t(ids.size());
  if (chunk <= 0) throw std::invalid_argument("--chunk must be positive");
  const int32_t greedy = a.get("greedy") ? std::stoi(*a.get("greedy")) : 0;
  if (greedy < 0) throw std::invalid_argument("--greedy must not be negative");

  auto backend = engine::make_backend(model, a.get_or("device", "auto"));
  for (int32_t id : ids)
    if (id >= backend->vocab_size())
      throw std::invalid_argument("token id " + std::to_string(id) + " >= vocab_size " +
                                  std::to_string(backend->vocab_size()));
  constexpr int32_t kBlock = 16;
  const int32_t blocks = int32_t((ids.size() + size_t(greedy) + kBlock - 1) / kBlock);
  backend->allocate_kv(blocks + 1, kBlock);
  // Blocks in reverse order, so a bug that assumes contiguous KV would show.
  std::vector<int32_t> table;
  for (int32_t b = blocks; b >= 1; --b) table.push_back(b);

  std::vector<float> out;
  for (size_t done = 0; done < ids.size();) {
    const size_t n = std::min(ids.size() - done, size_t(chunk));
    engine::ForwardBatch batch;
    batch.tokens.assign(ids.begin() + long(done), ids.begin() + long(done + n));
    engine::SequenceSlice s;
    s.num_new_tokens = int32_t(n);
    s.num_cached_tokens = int32_t(done);
    s.block_table = table;
    s.need_logits = done + n == ids.size();
    batch.seqs.push_back(s);
    backend->forward(batch, out);
    done += n;
  }
  std::string json = "[";
  char buf[32];
  for (size_t i = 0; i < out.size(); ++i) {
    std::snprintf(buf, sizeof buf, i ? ",%.9g" : "%.9g", double(out[i]));
    json += buf;
  }
  json += "]";
  if (greedy > 0) {
    // Decode steps over the same paged KV: each feeds the previous step's argmax.
    std::string generated = "[";
    std::vector<float> step = out;
    int32_t cached = int32_t(ids.size());
    for (int32_t g = 0; g < greedy; ++g) {
      const int32_t next = int32_t(std::max_element(step.begin(), step.end()) - step.begin());
      generated += (g ? "," : "") + std::to_string(next);
      if (g + 1 == greedy) break;
      engine::ForwardBatch batch;
      batch.tokens = {next};
      engine::SequenceSlice s;
      s.num_new_tokens = 1;
      s.num_cached_tokens = cached++;
      s.block_table = table;
      s.need_logits = true;
      batch.seqs.push_back(s);
      backend->forward(batch, step);
    }
    json = "{\"logits\":" + json + ",\"greedy\":" + generated + "]}";
  }
  json += "\n";
  std::fwrite(json.data(), 1, json.size(), stdout);
  return 0;
}

}  // namespace warden::cli
