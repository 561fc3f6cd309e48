#pragma once
// Data-loss prevention on the way in and out. Request: every text part, reasoning,
// tool-call arguments and tool results are scanned; per detector the team's action is
// redact (reversible placeholders `<EMAIL_1>`), block (400 dlp_blocked naming the
// detector), log (counted) or allow. Response: placeholders are restored for the caller
// and new sensitive values handled the same way; streamed text keeps a bounded hold-back
// so a value or placeholder split across chunks is still seen whole.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "warden/policy/dlp/dlp_engine.hpp"
#include "warden/policy/filter.hpp"

namespace warden::policy {

enum class DlpAction { Allow, Log, Redact, Block };

// Streamed text kept back at most while waiting for a possible match to finish.
inline constexpr size_t kDlpMaxHoldBack = 1024;

// Where the held-back tail of streamed text starts (see the .cpp for the rule).
size_t hold_start(std::string_view text);

// The action for each detector of `engine` for `team` (team map, then dlp.defaults, then
// the custom detector's own action; `secrets` covers the secret detectors).
std::vector<DlpAction> dlp_actions(const config::Config& cfg, const std::string& team, const DlpEngine& engine);

class DlpFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_event(RequestContext& ctx, api::StreamEvent& ev) override;

  // Request-side rewrite of one text; returns the detector that blocks, or "".
  std::string redact(RequestContext& ctx, std::string& text, bool json_string = false);
  // Request-side check of a field warden forwards as raw JSON (unknown fields): every
  // string in it (keys too) is scanned; returns the detector that refuses, or "".
  std::string scan_unmodelled(RequestContext& ctx, std::string_view raw_json);
  // Response-side: restores placeholders in text that is known complete.
  std::string restore(std::string_view text, bool json_escape) const;

 private:
  struct Pending {
    std::string text;
  };
  // Processes `incoming` for a stream channel; returns the text safe to emit now.
  // `final` flushes everything. Sets *blocked to the detector name when a block fires.
  std::string process_output(RequestContext& ctx, Pending& p, std::string_view incoming, bool final,
                             bool json_escape, std::string* blocked, bool window = true);

  std::shared_ptr<const DlpEngine> engine_;
  std::vector<DlpAction> actions_;
  bool active_ = false;
  bool scan_output_ = false;
  std::map<std::string, std::string> value_to_placeholder_;
  std::map<std::string, std::string> placeholder_to_value_;
  std::map<std::string, int> label_counts_;
  std::map<int, Pending> content_;    // per choice
  std::map<int, Pending> reasoning_;  // per choice
  std::map<std::pair<int, int>, Pending> tool_args_;  // per (choice, tool index)
  bool blocked_ = false;
  bool scan_failed_ = false;  // the engine could not scan: refuse / stop (fail closed)
};

}  // namespace warden::policy
