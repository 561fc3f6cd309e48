#include "logprob_entries.hpp"

#include <cmath>
#include <string_view>

#include "warden/api/json_writer.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::providers::local {
namespace {

void write_token(api::json::Writer& w, int32_t id, float logprob, const engine::Tokenizer* tokenizer) {
  std::string_view bytes = tokenizer ? tokenizer->token_bytes(id) : std::string_view{};
  w.field("token", bytes);
  // A probability that underflowed to 0 has logprob -inf, which JSON can't carry;
  // OpenAI reports -9999.0 for such tokens.
  w.key("logprob").number(std::isfinite(logprob) ? double(logprob) : -9999.0);
  w.key("bytes").begin_array();
  for (unsigned char b : bytes) w.integer(b);
  w.end_array();
}

}  // namespace

std::string logprob_entries(const std::vector<engine::TokenLogprobs>& tokens, const engine::Tokenizer* tokenizer) {
  std::string out;
  for (const auto& t : tokens) {
    api::json::Writer w;
    w.begin_object();
    write_token(w, t.token, t.logprob, tokenizer);
    w.key("top_logprobs").begin_array();
    for (const auto& [id, lp] : t.top) {
      w.begin_object();
      write_token(w, id, lp, tokenizer);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    if (!out.empty()) out += ',';
    out += w.str();
  }
  return out;
}

}  // namespace warden::providers::local
