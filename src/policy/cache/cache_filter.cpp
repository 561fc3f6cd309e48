#include "warden/policy/cache/cache_filter.hpp"

#include "warden/config/config.hpp"

namespace warden::policy {

namespace {
constexpr const char* kHeader = "x-warden-cache";
}

std::string CacheFilter::bypass_reason(const RequestContext& ctx) {
  const auto& cfg = ctx.config->cache;
  if (!cfg.enabled) return "disabled";
  if (auto it = ctx.headers.find(kHeader); it != ctx.headers.end() && (it->second == "bypass" || it->second == "no-store"))
    return "caller";
  const auto& r = ctx.request;
  // Unset temperature means the provider default (1.0 for OpenAI/DeepSeek): sampling.
  if (!cfg.allow_sampling && r.temperature.value_or(1.0) > 0) return "sampling";
  if (r.n && *r.n > 1) return "n";
  if (r.logprobs) return "logprobs";
  // Reversible DLP redaction: the request we see holds placeholders shared by different
  // callers' secrets, and the answer we would store holds the restored secrets.
  for (const auto& [name, count] : ctx.decisions)
    if (name.rfind("dlp.", 0) == 0 && name.size() > 7 && name.compare(name.size() - 7, 7, ".redact") == 0 && count > 0)
      return "dlp";
  return {};
}

asio::awaitable<FilterStatus> CacheFilter::on_request(RequestContext& ctx) {
  if (!ctx.config || !ctx.config->cache.enabled) co_return FilterStatus::Continue;
  if (!bypass_reason(ctx).empty()) {
    ctx.response_headers.emplace_back(kHeader, "bypass");
    co_return FilterStatus::Continue;
  }
  key_ = cache::cache_key(ctx.request, ctx.caller.team, ctx.alias);
  if (auto answer = store_.get(key_, std::chrono::seconds(ctx.config->cache.ttl_s))) {
    hit_ = true;
    // Answered locally: no upstream tokens were spent, so the caller and the budget see
    // zero usage; telemetry/ledger read the flag below.
    auto replay = std::make_shared<cache::Answer>();
    replay->reserve(answer->size() + 1);
    for (const auto& ev : *answer)
      if (ev.type != api::StreamEvent::Type::Usage) replay->push_back(ev);
    api::StreamEvent usage;
    usage.type = api::StreamEvent::Type::Usage;
    usage.usage.present = true;
    replay->push_back(std::move(usage));
    ctx.local_answer = std::move(replay);
    ctx.decisions["cache.hit"] = 1;
    ctx.response_headers.emplace_back(kHeader, "hit");
    co_return FilterStatus::Continue;
  }
  recording_ = true;
  ctx.decisions["cache.miss"] = 1;
  ctx.response_headers.emplace_back(kHeader, "miss");
  co_return FilterStatus::Continue;
}

void CacheFilter::on_event(RequestContext&, api::StreamEvent& ev) {
  if (!recording_) return;
  if (!cache::aggregate_into(answer_, ev)) recording_ = false;
}

void CacheFilter::on_complete(RequestContext& ctx) {
  if (!recording_ || hit_) return;
  recording_ = false;
  if (ctx.status != 200 || ctx.reply) return;
  // A filter before this one stopped or rewrote the answer (guardrails, DLP response block):
  // its Error event ends on_event before it reaches us, so look at the decisions too.
  for (const auto& [name, count] : ctx.decisions)
    if (count > 0 && name.find("block") != std::string::npos) return;
  bool finished = false;
  for (const auto& ev : answer_)
    if (ev.type == api::StreamEvent::Type::Finish) finished = true;
  if (!finished) return;  // cut short (client gone, upstream reset): never replay a partial answer
  store_.put(key_, std::make_shared<const cache::Answer>(std::move(answer_)), ctx.config->cache.max_entries);
}

}  // namespace warden::policy
