#pragma once
// Route planning (no I/O): the caller's alias → rules (first match wins, may rewrite the
// alias) → the ordered list of targets to try: the alias's targets (weighted, sticky
// first) followed by its fallback aliases' targets, recursively, without repeats.
#include <cstdint>
#include <string>
#include <vector>

#include "warden/common/result.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/request_context.hpp"

namespace warden::router {

struct Candidate {
  std::string alias;                    // the alias this target belongs to
  const config::ModelTarget* target{};  // points into the pinned config snapshot
  const config::ProviderConfig* provider{};
  std::string label() const { return target->provider + "/" + target->model; }
};

struct RoutePlan {
  std::string requested;  // the alias the caller asked for
  std::string alias;      // after rules
  int rule = -1;          // index of the rule that matched, -1 = none
  bool local_only = false;  // data class restricted the plan to local targets
  std::vector<Candidate> candidates;
};

// Prompt size estimate used by complexity rules: UTF-8 bytes of every text part / 4,
// rounded up. (Exact counts need the target's tokenizer, which is not known before
// routing; the estimate is close enough to split "small" from "large" prompts.)
int64_t estimate_prompt_tokens(const api::ChatRequest& req);

// True when every condition the rule sets holds for this request.
bool rule_matches(const config::RuleMatch& when, const policy::RequestContext& ctx, int64_t prompt_tokens);

// Sticky key for weighted choice: key id + user, or the request id when both are empty.
std::string sticky_key(const policy::RequestContext& ctx);

// Unknown alias → 404 model_not_found; data class limited to local targets and none
// left → 503 no_eligible_target.
Result<RoutePlan> plan_route(const config::Config& config, const policy::RequestContext& ctx);

}  // namespace warden::router
