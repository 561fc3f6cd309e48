// `warden generate --model DIR [--prompt TEXT]`: one chat turn through the full engine
// (R1 chat template → tokenizer → scheduler/KV/backend → sampler → output parser). The
// answer streams to stdout; reasoning streams to stderr (so a pipe gets only the answer),
// followed by a one-line summary.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/engine/chat_template/r1_chat_template.hpp"
#include "warden/engine/engine.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::cli {

namespace {

constexpr const char* kUsage =
    "usage: warden generate --model DIR [--prompt TEXT | TEXT | stdin] [--system TEXT]\n"
    "         [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S]\n"
    "         [--stop STR] [--device auto|cpu|cuda:N] [--raw] [--quiet]\n"
    "  --raw    feed the prompt text as is (no chat template, no reasoning split)\n"
    "  --quiet  no reasoning and no summary on stderr\n";

double to_double(const std::string& name, const std::string& v) {
  size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size()) throw std::invalid_argument("--" + name + " needs a number");
  return d;
}

}  // namespace

int generate(const Args& args) {
  CliArgs a(args, {"model", "prompt", "system", "max-tokens", "temperature", "top-p", "top-k", "seed", "stop", "device"},
            {"raw", "quiet", "help"});
  if (a.flag("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string model = a.get_or("model", "");
  if (model.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string prompt;
  if (auto p = a.get("prompt")) {
    prompt = *p;
  } else if (!a.positionals().empty()) {
    for (const auto& s : a.positionals()) prompt += (prompt.empty() ? "" : " ") + s;
  } else {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  const bool raw = a.flag("raw");
  const bool quiet = a.flag("quiet");

  engine::EngineConfig cfg;
  cfg.model_dir = model;
  cfg.device = a.get_or("device", "auto");
  cfg.max_num_seqs = 1;
  cfg.kv_cache_bytes = 64ll << 20;
  engine::Engine eng(cfg);
  const engine::Tokenizer& tok = *eng.tokenizer();

  engine::GenerationRequest req;
  if (raw) {
    req.prompt_tokens = tok.encode_with_special_tokens(prompt);
  } else {
    std::vector<engine::ChatMessage> messages;
    if (auto s = a.get("system")) messages.push_back({"system", *s, {}, {}, {}});
    messages.push_back({"user", prompt, {}, {}, {}});
    // The template writes the BOS token itself.
    req.prompt_tokens = tok.encode(engine::render_r1_chat(messages));
    req.starts_in_reasoning = true;
  }
  auto& sp = req.sampling;
  sp.max_tokens = a.get("max-tokens") ? static_cast<int32_t>(to_double("max-tokens", *a.get("max-tokens"))) : 256;
  sp.temperature = static_cast<float>(a.get("temperature") ? to_double("temperature", *a.get("temperature")) : 0.6);
  if (auto v = a.get("top-p")) sp.top_p = static_cast<float>(to_double("top-p", *v));
  if (auto v = a.get("top-k")) sp.top_k = static_cast<int32_t>(to_double("top-k", *v));
  if (auto v = a.get("seed")) sp.seed = std::stoull(*v);
  if (auto v = a.get("stop")) sp.stop.push_back(*v);

  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  const auto submitted = std::chrono::steady_clock::now();
  auto handle = eng.submit(std::move(req), engine::TokenSink{[&] {
                             {
                               std::lock_guard lock(mu);
                               ready = true;
                             }
                             cv.notify_one();
                           }});
  std::vector<engine::GenerationEvent> events;
  bool in_reasoning = false;
  for (bool done = false; !done;) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return ready; });
      ready = false;
    }
    events.clear();
    done = handle.stream->drain(events);
    for (const auto& ev : events) {
      using T = engine::GenerationEvent::Type;
      if (ev.type == T::Reasoning) {
        if (!quiet) {
          if (!in_reasoning) std::fputs("<think>", stderr);
          in_reasoning = true;
          std::fwrite(ev.text.data(), 1, ev.text.size(), stderr);
          std::fflush(stderr);
        }
      } else if (ev.type == T::Content) {
        if (in_reasoning && !quiet) std::fputs("</think>\n", stderr);
        in_reasoning = false;
        std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
        std::fflush(stdout);
      } else if (ev.type == T::ToolCall) {
        std::printf("\n[tool call %s(%s)]\n", ev.tool_name.c_str(), ev.tool_arguments.c_str());
      } else if (ev.type == T::Finish) {
        if (in_reasoning && !quiet) std::fputs("</think>\n", stderr);
        std::fputs("\n", stdout);
        if (ev.finish_reason == "error") {
          std::fprintf(stderr, "warden generate: %s\n", ev.error.c_str());
          return 1;
        }
        if (!quiet) {
          // Decode rate of this request: tokens after the first over the time after it (the
          // engine's own throughput window is per second and reads 0 for a short run).
          const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count();
          const double decode_s = total_s - std::chrono::duration<double>(ev.time_to_first_token).count();
          const double tok_s = ev.usage.completion_tokens > 1 && decode_s > 0
                                   ? double(ev.usage.completion_tokens - 1) / decode_s
                                   : 0.0;
          std::fprintf(stderr, "[%lld prompt + %lld generated tokens, finish %s, ttft %.1f ms, %.1f tok/s]\n",
                       static_cast<long long>(ev.usage.prompt_tokens),
                       static_cast<long long>(ev.usage.completion_tokens),
                       std::string(engine::to_string(ev.finish_reason)).c_str(), ev.time_to_first_token.count() / 1e6,
                       tok_s);
        }
      }
    }
  }
  return 0;
}

}  // namespace warden::cli
