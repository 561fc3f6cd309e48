// The embedded engine as a Provider (DESIGN §3, §4): canonical request → R1 chat template →
// tokens → Engine::submit. The engine thread never touches the session: it only pokes a
// thread-safe channel; the session's coroutine drains the request's bounded stream and
// emits canonical events at the client's pace (a slow client pauses only its request).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <tuple>

#include "logprob_entries.hpp"
#include "sampling_extensions.hpp"
#include "thinking_control.hpp"
#include "unsupported_parameters.hpp"
#include "warden/common/result.hpp"
#include "warden/config/providers.hpp"
#include "warden/engine/chat_template/r1_chat_template.hpp"
#include "warden/engine/engine.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/providers/local_factory.hpp"

namespace warden::providers {

namespace {

using WakeChannel = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

// Settings that need a new engine when they change (not `pos`, not remote-only fields).
auto engine_settings(const config::ProviderConfig& p) {
  return std::make_tuple(p.model_dir, p.device, p.tensor_parallel, p.max_num_seqs, p.max_num_batched_tokens,
                         p.max_model_len, p.kv_cache.block_tokens,
                         p.kv_cache.gpu_memory_fraction, p.kv_cache.prefix_caching, p.kv_cache.num_blocks);
}
using EngineSettings = decltype(engine_settings(std::declval<const config::ProviderConfig&>()));

struct CachedEngine {
  EngineSettings settings;
  std::shared_ptr<engine::Engine> engine;
  std::string load_error;
};

std::mutex g_engines_mu;
std::map<std::string, CachedEngine> g_engines;  // provider name → engine kept across reloads

Error make_error(int status, std::string code, std::string message, std::string type = "") {
  Error e;
  e.http_status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  e.type = std::move(type);
  return e;
}

std::string text_of(const api::Message& m, bool* has_other) {
  std::string out;
  for (const auto& part : m.content) {
    if (part.type == api::ContentPart::Type::Text) {
      out += part.text;
    } else if (has_other) {
      *has_other = true;
    }
  }
  return out;
}

// R1's template has no place for tool definitions: describe them in the system prompt,
// with the exact markup the output parser reads back.
std::string tools_prompt(const std::vector<api::ToolDefinition>& tools) {
  std::string s =
      "You can call these functions. To call one, write "
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGUMENTS\n```"
      "<｜tool▁call▁end｜><｜tool▁calls▁end｜>\nFunctions:\n";
  for (const auto& t : tools) {
    s += "- " + t.name;
    if (!t.description.empty()) s += ": " + t.description;
    if (!t.parameters_json.empty()) s += "\n  parameters: " + t.parameters_json;
    s += "\n";
  }
  return s;
}

class LocalProvider final : public Provider {
 public:
  LocalProvider(std::shared_ptr<engine::Engine> engine, std::string load_error)
      : engine_(std::move(engine)), load_error_(std::move(load_error)) {}

  std::string type() const override { return "local"; }
  const std::shared_ptr<engine::Engine>& engine() const { return engine_; }

  asio::awaitable<Outcome> stream(const api::ChatRequest& req, EventSink& sink) override {
    Outcome out;
    out.response_model = req.model;
    if (!engine_) {
      out.error = make_error(503, "engine_unavailable", "local engine unavailable: " + load_error_, "server_error");
      co_return out;
    }
    auto prepared = prepare(req);
    if (!prepared) {
      out.error = prepared.error();
      // The engine's own status, as an upstream's: a request the engine refuses (4xx) is
      // the caller's fault — not retried, not moved to another target, not a breaker
      // failure (status 0 would read as "unreachable" and count as all three).
      out.upstream_status = out.error.http_status;
      co_return out;
    }
    const int64_t prompt_tokens = static_cast<int64_t>(prepared->prompt_tokens.size());

    auto ex = co_await asio::this_coro::executor;
    auto wake = std::make_shared<WakeChannel>(ex, 1);
    // Engine thread → session: a non-blocking poke; a full channel already means "look".
    engine::RequestHandle handle = engine_->submit(std::move(*prepared), engine::TokenSink{[wake] {
      wake->try_send(boost::system::error_code{});
    }});

    // Whatever way this coroutine ends before the engine finished (an exception thrown by a
    // co_await once the caller's cancellation is set, a destroyed frame), the engine's
    // sequence and its KV blocks are freed (issue 15 defect 1).
    struct CancelUnlessDone {
      engine::Engine* engine;
      const engine::RequestHandle& handle;
      bool done = false;
      ~CancelUnlessDone() {
        if (!done) engine->cancel(handle);
      }
    } guard{engine_.get(), handle};

    bool started = false;
    std::vector<engine::GenerationEvent> events;
    const std::string id = response_id();
    for (;;) {
      events.clear();
      bool done = handle.stream->drain(events);
      guard.done = done;
      for (auto& ev : events) {
        if (ev.type == engine::GenerationEvent::Type::Finish && ev.finish_reason == "error" && !started) {
          // Nothing was sent yet: a clean error the router can act on.
          const bool too_long = ev.error_code == engine::EngineError::PromptTooLong;
          out.error = too_long ? make_error(400, "context_length_exceeded", ev.error, "invalid_request_error")
                               : make_error(500, "engine_error", ev.error, "server_error");
          out.upstream_status = out.error.http_status;
          out.usage.present = true;
          out.usage.prompt_tokens = prompt_tokens;
          co_return out;
        }
        if (!started) {
          api::StreamEvent start;
          start.type = api::StreamEvent::Type::Start;
          start.id = id;
          start.model = req.model;
          started = true;
          if (!co_await sink.emit(std::move(start))) {
            engine_->cancel(handle);
            out.error = make_error(499, "client_closed", "client went away");
            co_return out;
          }
        }
        std::vector<api::StreamEvent> outgoing = convert(ev, out);
        for (auto& o : outgoing) {
          if (!co_await sink.emit(std::move(o))) {
            engine_->cancel(handle);
            out.error = make_error(499, "client_closed", "client went away");
            co_return out;
          }
        }
      }
      if (done) break;
      auto [ec] = co_await wake->async_receive(asio::as_tuple(asio::use_awaitable));
      if (ec) {  // cancelled (client disconnect, deadline): free the engine's blocks
        engine_->cancel(handle);
        out.error = make_error(499, "client_closed", "request cancelled");
        co_return out;
      }
    }
    out.ok = out.finish_reason != "error";
    co_return out;
  }

 private:
  Result<engine::GenerationRequest> prepare(const api::ChatRequest& req) const {
    if (auto u = local::unsupported_parameter(req)) {
      Error e = make_error(400, "unsupported_parameter", "unsupported parameter '" + u->param + "': " + u->reason,
                           "invalid_request_error");
      e.param = u->param;
      return e;
    }
    const engine::Tokenizer* tok = engine_->tokenizer();
    if (!tok) return make_error(503, "engine_unavailable", "local engine has no tokenizer", "server_error");
    std::vector<engine::ChatMessage> messages;
    bool other = false;
    for (const auto& m : req.messages) {
      engine::ChatMessage cm;
      cm.role = m.role == "developer" ? "system" : m.role;
      if (cm.role != "system" && cm.role != "user" && cm.role != "assistant" && cm.role != "tool")
        return make_error(400, "invalid_request", "unsupported message role '" + m.role + "' for a local model",
                          "invalid_request_error");
      if (m.content_null) {
        cm.content = std::nullopt;
      } else {
        cm.content = text_of(m, &other);
      }
      for (const auto& tc : m.tool_calls) cm.tool_calls.push_back({tc.id, "function", tc.name, tc.arguments});
      cm.tool_call_id = m.tool_call_id;
      messages.push_back(std::move(cm));
    }
    if (other)
      return make_error(400, "unsupported_content", "the local model accepts text content only", "invalid_request_error");
    if (!req.tools.empty()) {
      std::string tp = tools_prompt(req.tools);
      auto sys = std::find_if(messages.rbegin(), messages.rend(), [](const auto& m) { return m.role == "system"; });
      if (sys != messages.rend()) {
        sys->content = sys->content.value_or("") + "\n\n" + tp;
      } else {
        messages.insert(messages.begin(), engine::ChatMessage{"system", tp, {}, {}, {}});
      }
    }
    Error thinking_error;
    const auto thinking = local::parse_thinking(req, thinking_error);
    if (!thinking) return thinking_error;
    engine::GenerationRequest g;
    std::string prompt = engine::render_r1_chat(messages);
    // The generation prompt opens `<think>` (not after tool results, where the model goes
    // on from the outputs): only then does the answer start inside the thinking block.
    constexpr std::string_view kOpen = "<think>\n";
    g.starts_in_reasoning = prompt.size() >= kOpen.size() && prompt.compare(prompt.size() - kOpen.size(), kOpen.size(), kOpen) == 0;
    if (thinking->disabled && g.starts_in_reasoning) {
      prompt += "\n</think>\n\n";  // the template's empty-thinking form
      g.starts_in_reasoning = false;
    }
    if (thinking->budget_tokens && g.starts_in_reasoning) {
      g.reasoning_budget = *thinking->budget_tokens;
      g.close_reasoning = tok->encode("\n</think>\n\n");
    }
    // The rendered template already starts with BOS.
    g.prompt_tokens = tok->encode(prompt);
    g.parse_tool_calls = !req.tools.empty();
    auto& s = g.sampling;
    // Unset by the caller: the model's generation_config.json, else DeepSeek's advice for
    // the R1 distills (temperature 0.6, top_p 0.95). top_p's default only goes with the
    // default temperature: a caller who sets a temperature gets top_p 1 unless they say.
    const auto& ec = engine_->config();
    s.temperature = req.temperature ? static_cast<float>(*req.temperature) : ec.default_temperature.value_or(0.6f);
    s.top_p = req.top_p ? static_cast<float>(*req.top_p) : req.temperature ? 1.0f : ec.default_top_p.value_or(0.95f);
    s.top_k = req.top_k ? static_cast<int32_t>(*req.top_k) : ec.default_top_k.value_or(0);
    s.presence_penalty = static_cast<float>(req.presence_penalty.value_or(0));
    s.frequency_penalty = static_cast<float>(req.frequency_penalty.value_or(0));
    if (req.seed) s.seed = static_cast<uint64_t>(*req.seed);
    int64_t room = engine_->max_model_len() - static_cast<int64_t>(g.prompt_tokens.size());
    int64_t max_tokens = req.max_tokens.value_or(std::min<int64_t>(4096, std::max<int64_t>(room, 1)));
    if (max_tokens <= 0)
      return make_error(400, "invalid_request", "max_tokens must be positive", "invalid_request_error");
    s.max_tokens = static_cast<int32_t>(std::min<int64_t>(max_tokens, INT32_MAX));
    s.stop = req.stop;
    if (req.logprobs) s.logprobs = static_cast<int32_t>(req.top_logprobs.value_or(0));
    if (auto bad = local::apply_sampling_extensions(req, tok->vocab_size(), s)) return *bad;
    return g;
  }

  std::vector<api::StreamEvent> convert(engine::GenerationEvent& ev, Outcome& out) const {
    std::vector<api::StreamEvent> v;
    api::StreamEvent s;
    switch (ev.type) {
      case engine::GenerationEvent::Type::Content:
        s.type = api::StreamEvent::Type::Content;
        s.text = std::move(ev.text);
        if (!ev.logprobs.empty()) s.logprobs = local::logprob_entries(ev.logprobs, engine_->tokenizer());
        v.push_back(std::move(s));
        break;
      case engine::GenerationEvent::Type::Reasoning:
        s.type = api::StreamEvent::Type::Reasoning;
        s.text = std::move(ev.text);
        if (!ev.logprobs.empty()) s.logprobs = local::logprob_entries(ev.logprobs, engine_->tokenizer());
        v.push_back(std::move(s));
        break;
      case engine::GenerationEvent::Type::ToolCall:
        s.type = api::StreamEvent::Type::ToolCall;
        s.tool_call.index = ev.tool_index;
        s.tool_call.id = ev.tool_id;
        s.tool_call.name = ev.tool_name;
        s.tool_call.arguments = ev.tool_arguments;
        v.push_back(std::move(s));
        break;
      case engine::GenerationEvent::Type::Finish: {
        if (!ev.logprobs.empty()) {
          // Tokens that produced no text (EOS, a held-back stop string) still have their
          // log-probabilities: every generated token gets an entry.
          api::StreamEvent tail;
          tail.type = api::StreamEvent::Type::Content;
          tail.logprobs = local::logprob_entries(ev.logprobs, engine_->tokenizer());
          v.push_back(std::move(tail));
        }
        // A cancelled request the client still reads (a server drain) ends as "stop".
        const std::string reason(engine::to_string(
            ev.finish_reason == engine::FinishReason::Cancelled ? engine::FinishReason::Stop : ev.finish_reason));
        if (ev.finish_reason == engine::FinishReason::Error) {
          api::StreamEvent err;
          err.type = api::StreamEvent::Type::Error;
          err.error = make_error(500, "engine_error", ev.error, "server_error");
          v.push_back(std::move(err));
          out.finish_reason = "error";
        } else {
          s.type = api::StreamEvent::Type::Finish;
          s.finish_reason = reason;
          v.push_back(std::move(s));
          out.finish_reason = reason;
        }
        api::StreamEvent u;
        u.type = api::StreamEvent::Type::Usage;
        u.usage.present = true;
        u.usage.prompt_tokens = ev.usage.prompt_tokens;
        u.usage.completion_tokens = ev.usage.completion_tokens;
        u.usage.cache_hit_tokens = ev.usage.cached_prompt_tokens;
        u.usage.reasoning_tokens = ev.usage.reasoning_tokens;
        out.usage = u.usage;
        v.push_back(std::move(u));
        break;
      }
    }
    return v;
  }

  static std::string response_id() {
    static std::atomic<uint64_t> counter{0};
    static const uint64_t salt = [] {
      std::random_device rd;
      return (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }();
    char buf[48];
    std::snprintf(buf, sizeof buf, "chatcmpl-local-%012llx%06llx", static_cast<unsigned long long>(salt & 0xffffffffffffULL),
                  static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffff));
    return buf;
  }

  std::shared_ptr<engine::Engine> engine_;
  std::string load_error_;
};

}  // namespace

std::shared_ptr<Provider> make_local_provider(const config::ProviderConfig& cfg) {
  std::lock_guard lock(g_engines_mu);
  auto settings = engine_settings(cfg);
  auto it = g_engines.find(cfg.name);
  if (it != g_engines.end() && it->second.settings == settings)
    return std::make_shared<LocalProvider>(it->second.engine, it->second.load_error);

  CachedEngine ce{settings, nullptr, ""};
  // Drop the old engine from the cache first: requests pinned to the old snapshot keep it
  // alive through their provider until they finish.
  if (it != g_engines.end()) g_engines.erase(it);
  try {
    engine::EngineConfig ec;
    ec.model_dir = cfg.model_dir;
    ec.device = cfg.device;
    ec.tensor_parallel = cfg.tensor_parallel;
    ec.max_num_seqs = std::max(1, cfg.max_num_seqs);
    ec.max_num_batched_tokens = static_cast<int32_t>(std::max<int64_t>(1, cfg.max_num_batched_tokens));
    ec.max_model_len = static_cast<int32_t>(cfg.max_model_len);
    ec.block_tokens = cfg.kv_cache.block_tokens;
    ec.num_blocks = cfg.kv_cache.num_blocks;
    ec.prefix_caching = cfg.kv_cache.prefix_caching;
    ec.gpu_memory_fraction = cfg.kv_cache.gpu_memory_fraction;
    ec.log = [name = cfg.name](int level, std::string_view msg) {
      auto lvl = level >= 2 ? spdlog::level::err : level == 1 ? spdlog::level::warn : spdlog::level::info;
      spdlog::log(lvl, "local provider '{}': {}", name, msg);
    };
    ce.engine = std::make_shared<engine::Engine>(ec);
    auto st = ce.engine->stats();
    spdlog::info("local provider '{}': model {} loaded, {} KV blocks of {} tokens, max_model_len {}", cfg.name,
                 cfg.model_dir, st.kv_blocks_total, ec.block_tokens, ce.engine->max_model_len());
  } catch (const std::exception& e) {
    ce.load_error = e.what();
    spdlog::error("local provider '{}': cannot load the engine: {}", cfg.name, ce.load_error);
  }
  auto provider = std::make_shared<LocalProvider>(ce.engine, ce.load_error);
  g_engines.emplace(cfg.name, std::move(ce));
  return provider;
}

std::shared_ptr<engine::Engine> local_engine_of(const Provider& provider) {
  if (auto* p = dynamic_cast<const LocalProvider*>(&provider)) return p->engine();
  return nullptr;
}

}  // namespace warden::providers
