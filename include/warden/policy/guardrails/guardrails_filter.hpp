#pragma once
// Kill switches (global `guardrails.kill_switch`, `guardrails.disabled_models`, per team
// `teams.<t>.guardrails.disabled`: 503 model_disabled) and blocked terms / regexes on
// input (400 content_blocked) and output (the answer stops with content_blocked).
// Terms and regexes compile into one Hyperscan database per distinct set (cached).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "warden/policy/filter.hpp"

struct hs_database;

namespace warden::policy {

class BlockList {
 public:
  // Terms match case-insensitively as literals on the normalised text (NFKC, zero-width
  // and bidi controls removed, case-folded); regexes as given, on the normalised and the
  // raw text. Throws on a bad regex.
  BlockList(const std::vector<std::string>& terms, const std::vector<std::string>& regexes);
  ~BlockList();
  // Index of the first rule matching `text` (terms first, then regexes), -1 when none
  // matches, kScanFailed when the scan itself failed (callers refuse: fail closed).
  static constexpr int kScanFailed = -2;
  int first_match(std::string_view text) const;
  size_t size() const { return count_; }

 private:
  hs_database* terms_db_ = nullptr;  // over the normalised, case-folded view
  hs_database* regex_db_ = nullptr;  // over the normalised view and the raw text
  size_t n_terms_ = 0;
  size_t count_ = 0;
};

// Cached per (global + team) rule set. `list` is null when there are no rules; `failed`
// when they do not compile (config validation compiles the same patterns, so this is a
// run-time failure such as a resource limit): the filter then refuses every request.
struct BlockListFor {
  std::shared_ptr<const BlockList> list;
  bool failed = false;
};
BlockListFor block_list_for(const config::Config& cfg, const std::string& team);


class GuardrailsFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_event(RequestContext& ctx, api::StreamEvent& ev) override;

 private:
  std::shared_ptr<const BlockList> rules_;
  std::map<int, std::string> tail_;  // per choice: the last bytes seen, to catch split terms
  bool stopped_ = false;
};

}  // namespace warden::policy
