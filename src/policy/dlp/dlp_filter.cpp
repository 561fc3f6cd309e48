#include "warden/policy/dlp/dlp_filter.hpp"

#include <simdjson.h>

#include <algorithm>

#include "warden/config/config.hpp"
#include "warden/policy/errors.hpp"

namespace warden::policy {

namespace {

DlpAction parse_action(const std::string& s) {
  if (s == "redact") return DlpAction::Redact;
  if (s == "block") return DlpAction::Block;
  if (s == "log") return DlpAction::Log;
  return DlpAction::Allow;
}

const std::string* lookup(const std::map<std::string, std::string>& m, const Detector& d) {
  if (auto it = m.find(d.name); it != m.end()) return &it->second;
  if (!d.group.empty())
    if (auto it = m.find(d.group); it != m.end()) return &it->second;
  if (d.name == "ssn")
    if (auto it = m.find("us_ssn"); it != m.end()) return &it->second;
  return nullptr;
}

std::string json_escape_str(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Length of a trailing "<LABEL_12" prefix that could still become a placeholder.
size_t partial_placeholder_tail(std::string_view s) {
  auto lt = s.rfind('<');
  if (lt == std::string_view::npos || s.size() - lt > 40) return 0;
  for (size_t i = lt + 1; i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return s.size() - lt;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool digit_or_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

}  // namespace

size_t hold_start(std::string_view t) {
  // Only the trailing token can still become (part of) a value, plus the digit or capital
  // groups before it that single spaces join ("4111 1111 ", "DE89 3704"). Ordinary
  // words go out as soon as the next chunk starts with a space; nothing is ever held
  // for more than kDlpMaxHoldBack bytes.
  size_t n = t.size();
  size_t i = n;
  while (i > 0 && t[i - 1] == ' ') --i;
  if (i < n && !(i > 0 && digit_or_upper(t[i - 1]))) return n;
  while (i > 0) {
    while (i > 0 && !is_space(t[i - 1])) --i;
    if (i >= 2 && t[i - 1] == ' ' && digit_or_upper(t[i - 2]) && i < n && digit_or_upper(t[i])) {
      --i;
      continue;
    }
    break;
  }
  return std::max(i, n > kDlpMaxHoldBack ? n - kDlpMaxHoldBack : size_t{0});
}

std::vector<DlpAction> dlp_actions(const config::Config& cfg, const std::string& team_name, const DlpEngine& engine) {
  const auto* team = cfg.team(team_name);
  std::vector<DlpAction> out;
  for (const auto& d : engine.detectors()) {
    const std::string* a = team ? lookup(team->dlp, d) : nullptr;
    if (!a) a = lookup(cfg.dlp.defaults, d);
    out.push_back(a ? parse_action(*a) : parse_action(d.default_action));
  }
  return out;
}

std::string DlpFilter::redact(RequestContext& ctx, std::string& text, bool json_string) {
  std::vector<DlpMatch> matches;
  if (!engine_->scan(text, matches)) {
    scan_failed_ = true;
    return "(scan failed)";
  }
  if (matches.empty()) return "";
  std::string out;
  size_t pos = 0;
  for (const auto& m : matches) {
    const auto& det = engine_->detectors()[m.detector];
    DlpAction action = actions_[m.detector];
    if (action == DlpAction::Allow) continue;
    ctx.decisions["dlp." + det.name + "." + (action == DlpAction::Redact ? "redact" : action == DlpAction::Block ? "block" : "log")] += 1;
    if (action == DlpAction::Block) return det.name;
    if (action != DlpAction::Redact) continue;
    std::string value = text.substr(m.start, m.end - m.start);
    auto it = value_to_placeholder_.find(value);
    if (it == value_to_placeholder_.end()) {
      std::string ph = "<" + det.label + "_" + std::to_string(++label_counts_[det.label]) + ">";
      it = value_to_placeholder_.emplace(value, ph).first;
      placeholder_to_value_.emplace(ph, value);
    }
    out.append(text, pos, m.start - pos);
    out += it->second;
    pos = m.end;
  }
  if (pos == 0 && out.empty()) return "";
  out.append(text, pos, std::string::npos);
  text = std::move(out);
  (void)json_string;
  return "";
}

std::string DlpFilter::scan_unmodelled(RequestContext& ctx, std::string_view raw_json) {
  // Fields warden does not model pass upstream byte for byte, so nothing in them can be
  // replaced by a placeholder: a value any redact/block detector finds there refuses the
  // request (log-only detectors are counted).
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(raw_json.data(), raw_json.size(), true).get(root)) {
    scan_failed_ = true;
    return "(scan failed)";
  }
  std::string found;
  std::vector<simdjson::dom::element> stack{root};
  std::vector<std::string> strings;
  while (!stack.empty()) {
    auto e = stack.back();
    stack.pop_back();
    std::string_view str;
    simdjson::dom::array arr;
    simdjson::dom::object obj;
    if (!e.get_string().get(str)) {
      strings.emplace_back(str);
    } else if (!e.get_array().get(arr)) {
      for (auto x : arr) stack.push_back(x);
    } else if (!e.get_object().get(obj)) {
      for (auto f : obj) {
        strings.emplace_back(f.key);
        stack.push_back(f.value);
      }
    }
  }
  for (const auto& text : strings) {
    std::vector<DlpMatch> matches;
    if (!engine_->scan(text, matches)) {
      scan_failed_ = true;
      return "(scan failed)";
    }
    for (const auto& m : matches) {
      const auto& det = engine_->detectors()[m.detector];
      DlpAction action = actions_[m.detector];
      if (action == DlpAction::Allow) continue;
      if (action == DlpAction::Log) {
        ctx.decisions["dlp." + det.name + ".log"] += 1;
        continue;
      }
      ctx.decisions["dlp." + det.name + ".block"] += 1;
      return det.name;
    }
  }
  return "";
}

std::string DlpFilter::restore(std::string_view text, bool json_escape) const {
  if (placeholder_to_value_.empty() || text.find('<') == std::string_view::npos) return std::string(text);
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto lt = text.find('<', pos);
    if (lt == std::string_view::npos) break;
    auto gt = text.find('>', lt);
    if (gt == std::string_view::npos) break;
    auto it = placeholder_to_value_.find(std::string(text.substr(lt, gt - lt + 1)));
    if (it == placeholder_to_value_.end()) {
      out.append(text.substr(pos, lt + 1 - pos));
      pos = lt + 1;
      continue;
    }
    out.append(text.substr(pos, lt - pos));
    out += json_escape ? json_escape_str(it->second) : it->second;
    pos = gt + 1;
  }
  out.append(text.substr(pos));
  return out;
}

asio::awaitable<FilterStatus> DlpFilter::on_request(RequestContext& ctx) {
  engine_ = engine_for(*ctx.config);
  if (!engine_) {
    // Fail closed: a team that asked for DLP must not bypass it because of a bad pattern.
    ctx.reply = errors::policy_unavailable("dlp_unavailable", "Data-loss prevention is unavailable.");
    const auto* team = ctx.config->team(ctx.caller.team);
    bool wants = !ctx.config->dlp.defaults.empty() || !ctx.config->dlp.custom.empty() || (team && !team->dlp.empty());
    if (wants) co_return FilterStatus::Reply;
    ctx.reply.reset();
    co_return FilterStatus::Continue;
  }
  actions_ = dlp_actions(*ctx.config, ctx.caller.team, *engine_);
  active_ = std::any_of(actions_.begin(), actions_.end(), [](DlpAction a) { return a != DlpAction::Allow; });
  if (!active_) co_return FilterStatus::Continue;
  scan_output_ = ctx.config->dlp.scan_responses;
  auto block = [&](const std::string& detector) {
    if (scan_failed_) {
      ctx.decisions["dlp.unavailable"] = 1;
      ctx.reply = errors::policy_unavailable("dlp_unavailable", "Data-loss prevention could not scan this request; it was refused.");
    } else {
      ctx.reply = errors::dlp_blocked(detector);
    }
    return FilterStatus::Reply;
  };
  for (auto& m : ctx.request.messages) {
    for (auto& part : m.content) {
      if (part.type != api::ContentPart::Type::Text) continue;
      if (auto d = redact(ctx, part.text); !d.empty()) co_return block(d);
    }
    if (m.reasoning_content)
      if (auto d = redact(ctx, *m.reasoning_content); !d.empty()) co_return block(d);
    for (auto& tc : m.tool_calls)
      if (auto d = redact(ctx, tc.arguments, true); !d.empty()) co_return block(d);
    // The participant name travels upstream too (OpenAI `name`).
    if (!m.name.empty())
      if (auto d = redact(ctx, m.name); !d.empty()) co_return block(d);
    for (const auto& [field, raw] : m.extra)
      if (auto d = scan_unmodelled(ctx, raw); !d.empty()) co_return block(d);
  }
  for (const auto& [field, raw] : ctx.request.extra)
    if (auto d = scan_unmodelled(ctx, raw); !d.empty()) co_return block(d);
  co_return FilterStatus::Continue;
}

std::string DlpFilter::process_output(RequestContext& ctx, Pending& p, std::string_view incoming, bool final,
                                      bool json_escape, std::string* blocked, bool window) {
  p.text.append(incoming);
  if (p.text.empty()) return "";
  // Where we may cut: keep back a window (only when scanning output for new values) and
  // any partial placeholder at the very end.
  size_t cut = p.text.size();
  std::vector<DlpMatch> matches;
  if (scan_output_) {
    if (!engine_->scan(p.text, matches)) {
      scan_failed_ = true;
      *blocked = "(scan failed)";
      p.text.clear();
      return "";
    }
    if (!final && window) {
      cut = hold_start(p.text);
      // Don't split a match; a match reaching the end may still grow: hold it (bounded).
      for (const auto& m : matches)
        if (m.start < cut && m.end > cut) cut = m.start;
      for (const auto& m : matches)
        if (m.end == p.text.size() && m.start < cut && p.text.size() - m.start <= kDlpMaxHoldBack) cut = m.start;
    }
  }
  // A blocking value that is already complete (it does not touch the end, where it
  // could still grow) stops the answer now, before anything more goes out.
  for (const auto& m : matches) {
    if (actions_[m.detector] != DlpAction::Block || (!final && m.end >= p.text.size())) continue;
    const auto& det = engine_->detectors()[m.detector];
    ctx.decisions["dlp." + det.name + ".response_block"] += 1;
    *blocked = det.name;
    p.text.clear();
    return "";
  }
  if (!final) cut = std::min(cut, p.text.size() - partial_placeholder_tail(p.text));
  if (!final) {
    // Also never cut inside a complete placeholder.
    auto lt = p.text.rfind('<', cut == 0 ? 0 : cut - 1);
    if (lt != std::string::npos && lt < cut) {
      auto gt = p.text.find('>', lt);
      if (gt != std::string::npos && gt >= cut && placeholder_to_value_.count(p.text.substr(lt, gt - lt + 1)))
        cut = lt;
    }
  }
  std::string emit;
  size_t pos = 0;
  for (const auto& m : matches) {
    if (m.end > cut) break;
    const auto& det = engine_->detectors()[m.detector];
    DlpAction action = actions_[m.detector];
    if (action == DlpAction::Allow) continue;
    ctx.decisions["dlp." + det.name + ".response_" +
                  (action == DlpAction::Redact ? "redact" : action == DlpAction::Block ? "block" : "log")] += 1;
    if (action == DlpAction::Block) {
      *blocked = det.name;
      p.text.clear();
      return "";
    }
    if (action != DlpAction::Redact) continue;
    emit += restore(std::string_view(p.text).substr(pos, m.start - pos), json_escape);
    emit += "[REDACTED:" + det.label + "]";
    pos = m.end;
  }
  emit += restore(std::string_view(p.text).substr(pos, cut - pos), json_escape);
  p.text.erase(0, cut);
  return emit;
}

void DlpFilter::on_event(RequestContext& ctx, api::StreamEvent& ev) {
  if (!active_ || blocked_ || !engine_) return;
  using T = api::StreamEvent::Type;
  std::string blocked;
  auto fail = [&] {
    blocked_ = true;
    ev = api::StreamEvent{};
    ev.type = T::Error;
    if (scan_failed_) {
      ctx.decisions["dlp.unavailable"] = 1;
      ev.error = errors::policy_unavailable("dlp_unavailable", "Data-loss prevention could not scan the answer; it was stopped.");
    } else {
      ev.error = errors::dlp_blocked(blocked, "response");
    }
  };
  // Releases what `held` keeps for this choice as an event of `type` just before `ev`
  // (the pipeline runs it through the later filters first). False when it blocked.
  auto release = [&](Pending& held, T type, bool json, int tool_index = 0) {
    std::string tail = process_output(ctx, held, "", true, json, &blocked);
    if (!blocked.empty()) return false;
    if (tail.empty()) return true;
    api::StreamEvent r;
    r.type = type;
    r.choice = ev.choice;
    if (type == T::ToolCall) {
      r.tool_call.index = tool_index;
      r.tool_call.arguments = std::move(tail);
    } else {
      r.text = std::move(tail);
    }
    if (!ev.released_before) ev.released_before = std::make_shared<std::vector<api::StreamEvent>>();
    ev.released_before->push_back(std::move(r));
    return true;
  };
  if (ev.type == T::Content || ev.type == T::ToolCall || ev.type == T::Finish) {
    // The reasoning of this choice is over: what its window still holds goes out first.
    if (auto it = reasoning_.find(ev.choice); it != reasoning_.end()) {
      const bool ok = release(it->second, T::Reasoning, false);
      reasoning_.erase(it);
      if (!ok) return fail();
    }
  }
  if (ev.type == T::ToolCall) {
    // Text before a tool call goes out before it, in the order the model wrote them.
    if (auto it = content_.find(ev.choice); it != content_.end()) {
      const bool ok = release(it->second, T::Content, false);
      content_.erase(it);
      if (!ok) return fail();
    }
  }
  switch (ev.type) {
    case T::Content: {
      // Held back the same way for stream and non-stream callers: a non-stream answer may
      // arrive in many events too (the local engine emits tokens), and a value split
      // across them must still be seen whole. What is held goes out with the choice's
      // Finish (which the pipeline always delivers, synthesising one if the upstream
      // sent none), so both callers get the same text.
      ev.text = process_output(ctx, content_[ev.choice], ev.text, false, false, &blocked);
      ev.raw.clear();
      // Token logprobs spell out the text token by token: they would leak what was
      // redacted, so a scanned answer carries none.
      ev.logprobs.clear();
      if (!blocked.empty()) fail();
      break;
    }
    case T::Reasoning: {
      // Held back like content; what is held goes out just before the choice's first
      // content, tool call or Finish (`release` above), so a value split across
      // reasoning chunks is seen whole.
      ev.text = process_output(ctx, reasoning_[ev.choice], ev.text, false, false, &blocked);
      ev.raw.clear();
      ev.logprobs.clear();
      if (!blocked.empty()) fail();
      break;
    }
    case T::ToolCall: {
      auto& p = tool_args_[{ev.choice, ev.tool_call.index}];
      // Arguments are JSON and end in '}' or '"', so only a partial placeholder is held
      // (released by the next fragment, or ahead of the Finish); no window.
      ev.tool_call.arguments = process_output(ctx, p, ev.tool_call.arguments, false, true, &blocked, false);
      ev.raw.clear();
      if (!blocked.empty()) fail();
      break;
    }
    case T::Finish: {
      // The choice ended: everything held back goes out now, carried on the Finish
      // event; the pipeline turns a Finish's text into a last Content event before the
      // next filter and the encoder see it (api/chat_pipeline.cpp, run_filters).
      std::string tail;
      if (auto it = content_.find(ev.choice); it != content_.end()) {
        tail = process_output(ctx, it->second, "", true, false, &blocked);
        content_.erase(it);
      }
      for (auto it = tool_args_.begin(); it != tool_args_.end();) {
        if (it->first.first == ev.choice) {
          // A partial placeholder still held at the end of the arguments.
          if (blocked.empty()) release(it->second, T::ToolCall, true, it->first.second);
          it = tool_args_.erase(it);
        } else {
          ++it;
        }
      }
      if (!blocked.empty()) {
        fail();
        break;
      }
      ev.text = tail + ev.text;
      ev.raw.clear();
      break;
    }
    default:
      break;
  }
}

}  // namespace warden::policy
