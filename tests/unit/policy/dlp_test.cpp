#include "policy_test_support.hpp"
#include "warden/policy/dlp/dlp_engine.hpp"
#include "warden/policy/dlp/dlp_filter.hpp"

using namespace warden;
using namespace policy_test;

namespace {

std::vector<std::string> found(const policy::DlpEngine& e, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& m : e.scan(text)) out.push_back(e.detectors()[m.detector].name + "=" + text.substr(m.start, m.end - m.start));
  return out;
}

const std::string kDlpTeam = R"(
teams:
  t:
    dlp: {email: redact, phone: redact, credit_card: block, secrets: block, ipv4: log, employee_id: redact}
dlp:
  custom: [{name: employee_id, regex: 'EMP-[0-9]{6}', action: redact}]
)";

api::StreamEvent content(const std::string& text) {
  api::StreamEvent ev;
  ev.type = api::StreamEvent::Type::Content;
  ev.text = text;
  return ev;
}

}  // namespace

TEST_CASE("dlp corpus: true positives", "[dlp]") {
  policy::DlpEngine e({});
  using V = std::vector<std::string>;
  CHECK(found(e, "mail jane.doe+x@corp.example.com now") == V{"email=jane.doe+x@corp.example.com"});
  CHECK(found(e, "card 4111 1111 1111 1111 ok") == V{"credit_card=4111 1111 1111 1111"});
  CHECK(found(e, "card 5500-0000-0000-0004.") == V{"credit_card=5500-0000-0000-0004"});
  CHECK(found(e, "amex 378282246310005") == V{"credit_card=378282246310005"});
  CHECK(found(e, "iban DE89 3704 0044 0532 0130 00 thanks") == V{"iban=DE89 3704 0044 0532 0130 00"});
  CHECK(found(e, "GB82WEST12345698765432") == V{"iban=GB82WEST12345698765432"});
  CHECK(found(e, "ssn 123-45-6789") == V{"ssn=123-45-6789"});
  CHECK(found(e, "call +1 415 555 0132 or") == V{"phone=+1 415 555 0132"});
  CHECK(found(e, "call (415) 555-0132") == V{"phone=(415) 555-0132"});
  CHECK(found(e, "host 192.168.10.200 down") == V{"ipv4=192.168.10.200"});
  CHECK(found(e, "AKIAIOSFODNN7EXAMPLE") == V{"aws_access_key=AKIAIOSFODNN7EXAMPLE"});
  CHECK(found(e, "t=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789") == V{"github_token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"});
  CHECK(found(e, "key sk-proj-abcdefghijklmnopqrstuvwxyz012345") == V{"api_key=sk-proj-abcdefghijklmnopqrstuvwxyz012345"});
  CHECK(found(e, "deepseek sk-0123456789abcdef0123456789abcdef") == V{"api_key=sk-0123456789abcdef0123456789abcdef"});
  std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  CHECK(found(e, "Bearer " + jwt) == V{"jwt=" + jwt});
  std::string pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
  CHECK(found(e, "x\n" + pem + "\ny") == V{"private_key=" + pem});
}

TEST_CASE("dlp corpus: true negatives", "[dlp]") {
  policy::DlpEngine e({});
  for (std::string text : {
           "card 4111 1111 1111 1112",         // Luhn-invalid
           "order 1234567890123456 shipped",    // Luhn-invalid order id
           "order id 20231115000123",           // bare digit run: not a phone, Luhn-invalid
           "ORD-2024-000123-77",
           "version 1.2.3.4 released",
           "upgrade to v10.0.1.2",
           "oid 1.3.6.1.4.1.311",
           "python 3.11.4 and node 20.10.0",
           "iban DE89 3704 0044 0532 0130 01",  // mod-97 fails
           "ssn 000-12-3456 and 666-12-3456",   // invalid areas
           "at 2026-11-23 10:15:00",
           "sk-short",
           "user@localhost",
           "price 1,299.00 USD",
       }) {
    INFO(text);
    CHECK(found(e, text).empty());
  }
}

TEST_CASE("dlp: Luhn and IBAN validators", "[dlp]") {
  CHECK(policy::luhn_valid("4111111111111111"));
  CHECK_FALSE(policy::luhn_valid("4111111111111112"));
  CHECK(policy::iban_valid("GB82WEST12345698765432"));
  CHECK_FALSE(policy::iban_valid("GB82WEST12345698765433"));
}

TEST_CASE("dlp filter: redact with reversible placeholders, restored in the answer", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, kDlpTeam));
  policy::DlpFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  ctx.request.stream = true;
  ctx.request.messages[0].content[0].text = "Write to jane@corp.com and bob@corp.com, again jane@corp.com. I am EMP-123456.";
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
  const auto& sent = ctx.request.messages[0].content[0].text;
  CHECK(sent == "Write to <EMAIL_1> and <EMAIL_2>, again <EMAIL_1>. I am <EMPLOYEE_ID_1>.");
  CHECK(ctx.decisions["dlp.email.redact"] == 3);

  // The model answers with placeholders split across chunks; the caller sees the values.
  std::string out;
  for (std::string chunk : {"Sure, mailing <EMA", "IL_2> now (cc <", "EMAIL_1>", "). Bye"}) {
    auto ev = content(chunk);
    f.on_event(ctx, ev);
    REQUIRE(ev.type == api::StreamEvent::Type::Content);
    out += ev.text;
  }
  api::StreamEvent fin;
  fin.type = api::StreamEvent::Type::Finish;
  fin.finish_reason = "stop";
  f.on_event(ctx, fin);
  out += fin.text;
  CHECK(out == "Sure, mailing bob@corp.com now (cc jane@corp.com). Bye");
}

TEST_CASE("dlp filter: block names the detector, never the value", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, kDlpTeam));
  policy::DlpFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  ctx.request.messages[0].content[0].text = "my card is 4111-1111-1111-1111";
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 400);
  CHECK(ctx.reply->code == "dlp_blocked");
  CHECK(ctx.reply->message.find("credit_card") != std::string::npos);
  CHECK(ctx.reply->message.find("4111") == std::string::npos);

  // Tool results are scanned too.
  policy::DlpFilter g;
  auto ctx2 = make_ctx(cfg, "", "fast");
  ctx2.caller.team = "t";
  api::Message tool;
  tool.role = "tool";
  tool.tool_call_id = "call_1";
  api::ContentPart p;
  p.text = "{\"aws\": \"AKIAIOSFODNN7EXAMPLE\"}";
  tool.content.push_back(p);
  ctx2.request.messages.push_back(tool);
  REQUIRE(run_request(g, ctx2) == policy::FilterStatus::Reply);
  CHECK(ctx2.reply->message.find("aws_access_key") != std::string::npos);
}

TEST_CASE("dlp filter: a value split across response chunks is still caught", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, kDlpTeam));
  policy::DlpFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  ctx.request.stream = true;
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
  std::string out;
  for (std::string chunk : {"The admin is ", "root.adm", "in@examp", "le.org, ask them."}) {
    auto ev = content(chunk);
    f.on_event(ctx, ev);
    out += ev.text;
  }
  api::StreamEvent fin;
  fin.type = api::StreamEvent::Type::Finish;
  f.on_event(ctx, fin);
  out += fin.text;
  CHECK(out == "The admin is [REDACTED:EMAIL], ask them.");

  // A blocked detector in the answer stops it with an error event.
  policy::DlpFilter g;
  auto ctx2 = make_ctx(cfg, "", "fast");
  ctx2.caller.team = "t";
  ctx2.request.stream = true;
  REQUIRE(run_request(g, ctx2) == policy::FilterStatus::Continue);
  bool stopped = false;
  for (std::string chunk : {"card: 4111 1111 ", "1111 1111 and more text that keeps going on and on and on and on"}) {
    auto ev = content(chunk);
    g.on_event(ctx2, ev);
    if (ev.type == api::StreamEvent::Type::Error) {
      stopped = true;
      CHECK(ev.error.code == "dlp_blocked");
      break;
    }
    CHECK(ev.text.find("4111") == std::string::npos);
  }
  CHECK(stopped);
}

TEST_CASE("dlp filter: a non-stream answer is held like a stream one and released at Finish", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, kDlpTeam));
  auto answer = [&](std::vector<std::string> chunks) {
    policy::DlpFilter f;
    auto ctx = make_ctx(cfg, "", "fast");
    ctx.caller.team = "t";
    ctx.request.messages[0].content[0].text = "mail ann@corp.com";
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
    REQUIRE_FALSE(ctx.request.stream);
    std::string out;
    for (const auto& chunk : chunks) {
      auto ev = content(chunk);
      f.on_event(ctx, ev);
      out += ev.text;
    }
    api::StreamEvent fin;
    fin.type = api::StreamEvent::Type::Finish;
    f.on_event(ctx, fin);
    return out + fin.text;  // the pipeline turns Finish text into the last Content event
  };
  CHECK(answer({"Mailing <EMAIL_1> and admin@example.org now"}) == "Mailing ann@corp.com and [REDACTED:EMAIL] now");
  // Token by token, as the local engine answers even non-stream callers.
  CHECK(answer({"Mailing ", "<EMA", "IL_1> and ad", "min@exam", "ple.org", " now"}) ==
        "Mailing ann@corp.com and [REDACTED:EMAIL] now");
}

TEST_CASE("dlp filter: teams without actions are not scanned", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, "teams:\n  plain: {}\n"));
  policy::DlpFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "plain";
  ctx.request.messages[0].content[0].text = "jane@corp.com 4111 1111 1111 1111";
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
  CHECK(ctx.request.messages[0].content[0].text == "jane@corp.com 4111 1111 1111 1111");
}

TEST_CASE("dlp: stream hold-back keeps only what can still become a value", "[dlp]") {
  using policy::hold_start;
  std::string a = "Hello there ";
  CHECK(hold_start(a) == a.size());  // ends in a finished word: nothing held
  std::string b = "Hello wor";
  CHECK(hold_start(b) == 6);  // the trailing token
  std::string c = "card 4111 1111 ";
  CHECK(hold_start(c) == 5);  // spaced digit groups stay together
  std::string d = "iban DE89 3704";
  CHECK(hold_start(d) == 5);
  std::string e = "done.\n";
  CHECK(hold_start(e) == e.size());
  std::string f(3000, 'x');
  CHECK(hold_start(f) == 3000 - policy::kDlpMaxHoldBack);  // bounded
}

TEST_CASE("dlp filter: held text is released ahead of the event that ends it, in order", "[dlp]") {
  auto dir = scratch_dir("dlp");
  auto cfg = load(base_yaml(dir, kDlpTeam));
  policy::DlpFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  ctx.request.stream = true;
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
  std::vector<std::pair<api::StreamEvent::Type, std::string>> seen;  // what the caller would get, in order
  auto feed = [&](api::StreamEvent ev) {
    f.on_event(ctx, ev);
    if (ev.released_before)
      for (const auto& r : *ev.released_before)
        seen.emplace_back(r.type, r.type == api::StreamEvent::Type::ToolCall ? r.tool_call.arguments : r.text);
    seen.emplace_back(ev.type, ev.type == api::StreamEvent::Type::ToolCall ? ev.tool_call.arguments : ev.text);
  };
  using T = api::StreamEvent::Type;
  api::StreamEvent r1;
  r1.type = T::Reasoning;
  r1.text = "think of jane.d";
  feed(r1);
  r1.text = "oe@corp.org";
  feed(r1);
  feed(content("Let me email admin@exa"));
  feed(content("mple.org"));
  api::StreamEvent call;
  call.type = T::ToolCall;
  call.tool_call.name = "mail";
  call.tool_call.arguments = "{}";
  feed(call);
  api::StreamEvent fin;
  fin.type = T::Finish;
  feed(fin);
  std::string reasoning, text;
  size_t last_reasoning = 0, first_content = seen.size(), tool_at = 0, last_content = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i].first == T::Reasoning) reasoning += seen[i].second, last_reasoning = i;
    if (seen[i].first == T::Content && !seen[i].second.empty()) text += seen[i].second, first_content = std::min(first_content, i), last_content = i;
    if (seen[i].first == T::ToolCall) tool_at = i;
  }
  CHECK(reasoning == "think of [REDACTED:EMAIL]");
  CHECK(text == "Let me email [REDACTED:EMAIL]");
  CHECK(last_reasoning < first_content);
  CHECK(last_content < tool_at);
}
