// apply_sampling_extensions: logit_bias, min_p, repetition_penalty, min_tokens, ignore_eos,
// stop_token_ids from the request's extra fields, validated.
#include "sampling_extensions.hpp"

#include <charconv>
#include <cmath>
#include <string>

#include <simdjson.h>

namespace warden::providers::local {

namespace {

constexpr size_t kMaxBiasEntries = 1024;
constexpr size_t kMaxStopIds = 64;

Error invalid(std::string_view param, const std::string& why) {
  return Error{400, "invalid_request", std::string(param) + ": " + why, "invalid_request_error", std::string(param)};
}

bool token_id(int64_t v, int32_t vocab) { return v >= 0 && v < vocab; }

}  // namespace

std::optional<Error> apply_sampling_extensions(const api::ChatRequest& req, int32_t vocab,
                                               engine::sampler::SamplingParams& s) {
  simdjson::dom::parser parser;
  for (const auto& [name, raw] : req.extra) {
    simdjson::dom::element v;
    if (parser.parse(raw).get(v) != simdjson::SUCCESS) return invalid(name, "not valid JSON");
    if (name == "logit_bias") {
      simdjson::dom::object obj;
      if (v.get(obj) != simdjson::SUCCESS) return invalid(name, "must be an object of token id → bias");
      if (obj.size() > kMaxBiasEntries) return invalid(name, "at most 1024 entries");
      for (auto field : obj) {
        const std::string_view key = field.key;
        int64_t id = -1;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc() || end != key.data() + key.size() || !token_id(id, vocab))
          return invalid(name, "keys must be token ids below the vocabulary size " + std::to_string(vocab));
        double bias = 0;
        if (field.value.get(bias) != simdjson::SUCCESS || !std::isfinite(bias) || bias < -100 || bias > 100)
          return invalid(name, "biases must be numbers from -100 to 100");
        // A repeated id would add its biases past the ±100 bound.
        for (const auto& [seen, b] : s.logit_bias)
          if (seen == id) return invalid(name, "token id " + std::to_string(id) + " appears twice");
        s.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(bias));
      }
    } else if (name == "min_p") {
      double p = -1;
      if (v.get(p) != simdjson::SUCCESS || !(p >= 0 && p <= 1)) return invalid(name, "must be a number from 0 to 1");
      s.min_p = static_cast<float>(p);
    } else if (name == "repetition_penalty") {
      double p = 0;
      if (v.get(p) != simdjson::SUCCESS || !(p > 0 && p <= 10))
        return invalid(name, "must be a number above 0 and at most 10");
      s.repetition_penalty = static_cast<float>(p);
    } else if (name == "min_tokens") {
      int64_t n = -1;
      if (v.get(n) != simdjson::SUCCESS || n < 0 || n > s.max_tokens)
        return invalid(name, "must be an integer from 0 to max_tokens (" + std::to_string(s.max_tokens) + ")");
      s.min_tokens = static_cast<int32_t>(n);
    } else if (name == "ignore_eos") {
      bool b = false;
      if (v.get(b) != simdjson::SUCCESS) return invalid(name, "must be a boolean");
      s.ignore_eos = b;
    } else if (name == "stop_token_ids") {
      simdjson::dom::array arr;
      if (v.get(arr) != simdjson::SUCCESS || arr.size() > kMaxStopIds)
        return invalid(name, "must be an array of at most 64 token ids");
      for (auto e : arr) {
        int64_t id = -1;
        if (e.get(id) != simdjson::SUCCESS || !token_id(id, vocab))
          return invalid(name, "token ids must be below the vocabulary size " + std::to_string(vocab));
        s.stop_token_ids.push_back(static_cast<int32_t>(id));
      }
    }
  }
  return std::nullopt;
}

}  // namespace warden::providers::local
