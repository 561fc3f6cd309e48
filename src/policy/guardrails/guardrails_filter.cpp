#include "warden/policy/guardrails/guardrails_filter.hpp"

#include <hs/hs.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "warden/config/config.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/guardrails/moderation.hpp"
#include "warden/policy/normalize.hpp"

namespace warden::policy {

namespace {

std::string escape_literal(const std::string& term) {
  std::string out;
  for (char c : term) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_') out += c;
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

struct Scratch {
  hs_scratch_t* s = nullptr;
  ~Scratch() { hs_free_scratch(s); }
};

int on_first(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  int* best = static_cast<int*>(ctx);
  if (*best < 0 || static_cast<int>(id) < *best) *best = static_cast<int>(id);
  return 1;  // stop at the first match
}

constexpr size_t kTail = 256;
// config/sections/guardrails.cpp validates blocked_regex with the same flags.
constexpr unsigned kRegexFlags = HS_FLAG_SINGLEMATCH;

}  // namespace

namespace {

hs_database_t* compile(const std::vector<std::string>& patterns, unsigned flag) {
  if (patterns.empty()) return nullptr;
  std::vector<const char*> ptrs;
  std::vector<unsigned> ids, flags;
  for (size_t i = 0; i < patterns.size(); ++i) {
    ptrs.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
    flags.push_back(flag);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "unknown error";
    hs_free_compile_error(err);
    throw std::runtime_error("guardrails: " + msg);
  }
  return db;
}

// First matching id in `db` over `text`, -1 for none, BlockList::kScanFailed on error.
int scan(const hs_database_t* db, std::string_view text) {
  if (!db || text.empty()) return -1;
  if (text.size() > std::numeric_limits<unsigned>::max()) return BlockList::kScanFailed;
  thread_local Scratch scratch;  // grown to fit every database this thread scans
  if (hs_alloc_scratch(db, &scratch.s) != HS_SUCCESS) return BlockList::kScanFailed;
  int best = -1;
  hs_error_t rc = hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch.s, on_first, &best);
  // HS_SCAN_TERMINATED is the callback stopping at the first match: success.
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return BlockList::kScanFailed;
  return best;
}

}  // namespace

BlockList::BlockList(const std::vector<std::string>& terms, const std::vector<std::string>& regexes) {
  // Terms are case-insensitive literals: compiled from, and matched against, the
  // normalised case-folded view (NFKC, invisible controls removed), so "ＰＲＯＪＥＣＴ" or
  // "pro\u200Bject" meet the term "project". Regexes keep their own case rules and
  // see the normalised (unfolded) view and the text as written.
  std::vector<std::string> term_patterns;
  for (const auto& t : terms) {
    NormalizedText folded(t, /*casefold=*/true);
    if (!folded.view().empty()) term_patterns.push_back(escape_literal(std::string(folded.view())));
  }
  n_terms_ = term_patterns.size();
  count_ = n_terms_ + regexes.size();
  terms_db_ = compile(term_patterns, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
  try {
    regex_db_ = compile(regexes, kRegexFlags);
  } catch (...) {
    hs_free_database(terms_db_);
    throw;
  }
}

BlockList::~BlockList() {
  hs_free_database(terms_db_);
  hs_free_database(regex_db_);
}

int BlockList::first_match(std::string_view text) const {
  if (text.empty()) return -1;
  if (terms_db_) {
    NormalizedText folded(text, /*casefold=*/true);
    if (int r = scan(terms_db_, folded.view()); r != -1) return r;
  }
  if (!regex_db_) return -1;
  NormalizedText plain(text);
  int r = scan(regex_db_, plain.view());
  if (r == -1 && !plain.identity()) r = scan(regex_db_, text);
  return r >= 0 ? static_cast<int>(n_terms_) + r : r;
}

BlockListFor block_list_for(const config::Config& cfg, const std::string& team_name) {
  std::vector<std::string> terms = cfg.guardrails.blocked_terms;
  if (const auto* team = cfg.team(team_name))
    terms.insert(terms.end(), team->guardrails.blocked_terms.begin(), team->guardrails.blocked_terms.end());
  if (terms.empty() && cfg.guardrails.blocked_regex.empty()) return {};
  std::string key;
  for (const auto& t : terms) key += t + '\x1f';
  key += '\x1e';
  for (const auto& r : cfg.guardrails.blocked_regex) key += r + '\x1f';
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const BlockList>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(key); it != cache.end()) return {it->second, it->second == nullptr};
  std::shared_ptr<const BlockList> list;
  try {
    list = std::make_shared<const BlockList>(terms, cfg.guardrails.blocked_regex);
  } catch (const std::exception& e) {
    spdlog::error("{} (requests that these guardrails cover are refused)", e.what());
  }
  cache.emplace(key, list);
  return {list, list == nullptr};
}

asio::awaitable<FilterStatus> GuardrailsFilter::on_request(RequestContext& ctx) {
  const auto& g = ctx.config->guardrails;
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  const auto* team = ctx.config->team(ctx.caller.team);
  bool disabled = g.kill_switch || (team && team->guardrails.disabled) ||
                  std::find(g.disabled_models.begin(), g.disabled_models.end(), alias) != g.disabled_models.end();
  if (disabled) {
    ctx.decisions["guardrails.model_disabled"] = 1;
    ctx.reply = errors::model_disabled(alias);
    co_return FilterStatus::Reply;
  }
  auto rules = block_list_for(*ctx.config, ctx.caller.team);
  auto unavailable = [&] {
    ctx.decisions["guardrails.unavailable"] = 1;
    ctx.reply = errors::policy_unavailable("guardrails_unavailable",
                                           "Guardrails could not check this request; it was refused.");
    return FilterStatus::Reply;
  };
  if (rules.failed) co_return unavailable();  // fail closed: never let unchecked text through
  rules_ = std::move(rules.list);
  bool scan_failed = false;
  auto check = [&](std::string_view text) {
    if (!rules_) return false;
    int rule = rules_->first_match(text);
    if (rule == BlockList::kScanFailed) {
      scan_failed = true;
      return true;
    }
    if (rule < 0) return false;
    ctx.decisions["guardrails.blocked_input"] = 1;
    ctx.reply = errors::content_blocked("The request matched blocked-content rule #" + std::to_string(rule + 1) + ".");
    return true;
  };
  bool hit = false;
  for (const auto& m : ctx.request.messages) {
    for (const auto& p : m.content)
      if (!hit && p.type == api::ContentPart::Type::Text && check(p.text)) hit = true;
    for (const auto& tc : m.tool_calls)
      if (!hit && check(tc.arguments)) hit = true;
    if (!hit && !m.name.empty() && check(m.name)) hit = true;
    if (!hit && m.reasoning_content && check(*m.reasoning_content)) hit = true;
    for (const auto& [field, raw] : m.extra)
      if (!hit && check(raw)) hit = true;
  }
  for (const auto& [field, raw] : ctx.request.extra)
    if (!hit && check(raw)) hit = true;
  if (scan_failed) co_return unavailable();
  if (hit) co_return FilterStatus::Reply;
  if (g.moderation_url.empty()) co_return FilterStatus::Continue;

  // External moderation last: the local rules are cheaper and already refused what they could.
  std::vector<std::string> texts;
  for (const auto& m : ctx.request.messages)
    for (const auto& p : m.content)
      if (p.type == api::ContentPart::Type::Text && !p.text.empty()) texts.push_back(p.text);
  auto verdict = co_await moderate(*ctx.config, texts);
  if (verdict.verdict == ModerationVerdict::Flagged) {
    ctx.decisions["guardrails.moderation_flagged"] = 1;
    ctx.reply = errors::content_blocked("The request was flagged by content moderation.");
    co_return FilterStatus::Reply;
  }
  if (verdict.verdict == ModerationVerdict::Failed) {
    ctx.decisions["guardrails.moderation_failed"] = 1;
    spdlog::warn("moderation call failed ({}): {}", g.moderation_failure == "closed" ? "refusing" : "allowing",
                 verdict.why);
    if (g.moderation_failure == "closed") {
      ctx.reply = errors::policy_unavailable("moderation_unavailable",
                                             "Content moderation could not check this request; it was refused.");
      co_return FilterStatus::Reply;
    }
  }
  co_return FilterStatus::Continue;
}

void GuardrailsFilter::on_event(RequestContext& ctx, api::StreamEvent& ev) {
  if (!rules_ || stopped_) return;
  std::string_view text;
  if (ev.type == api::StreamEvent::Type::Content || ev.type == api::StreamEvent::Type::Reasoning) text = ev.text;
  else if (ev.type == api::StreamEvent::Type::ToolCall) text = ev.tool_call.arguments;
  else return;
  // Scan the previous tail plus this chunk, so a term split across chunks is caught.
  auto& tail = tail_[ev.choice];
  std::string window = tail;
  window.append(text);
  int rule = rules_->first_match(window);
  if (rule != -1) {
    stopped_ = true;
    api::StreamEvent err;
    err.type = api::StreamEvent::Type::Error;
    err.choice = ev.choice;
    if (rule == BlockList::kScanFailed) {
      ctx.decisions["guardrails.unavailable"] = 1;
      err.error = errors::policy_unavailable("guardrails_unavailable",
                                             "Guardrails could not check the answer; it was stopped.");
    } else {
      ctx.decisions["guardrails.blocked_output"] = 1;
      err.error = errors::content_blocked("The answer matched a blocked-content rule.", "response");
    }
    ev = std::move(err);
    return;
  }
  tail = window.size() > kTail ? window.substr(window.size() - kTail) : window;
}

}  // namespace warden::policy
