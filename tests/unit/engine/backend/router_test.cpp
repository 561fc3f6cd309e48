// MoE routing on hand-worked examples (the reference tests cover it end to end).
#include <catch2/catch.hpp>

#include <cmath>

#include "warden/engine/backend/cpu/ffn.hpp"

using namespace warden::engine;
using namespace warden::engine::cpu;

namespace {
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

TEST_CASE("router: DeepSeek-V3 noaux_tc picks by biased group top-2 sums, weighs by unbiased scores", "[backend][moe]") {
  MoeConfig c;
  c.num_experts = 8;
  c.top_k = 2;
  c.scoring = "sigmoid";
  c.topk_method = "noaux_tc";
  c.n_group = 4;
  c.topk_group = 2;
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.5;
  c.scale_when_normalized = true;
  const float logits[8] = {0, 0, 2, -2, 1, 1, -1, 3};
  const float bias[8] = {0, 0, 0, 1.0f, 0, 0, 0, 0};
  // Biased scores: .5 .5 | .881 1.119 | .731 .731 | .269 .953 → group sums 1.0, 2.0, 1.46, 1.22:
  // groups 1 and 2 win, so expert 7 (the best unbiased score) is out; experts 3 then 2.
  int32_t experts[2];
  float weights[2];
  route_token(c, ModelFamily::DeepseekMoe, logits, bias, experts, weights);
  CHECK(experts[0] == 3);
  CHECK(experts[1] == 2);
  // sigmoid(-2) + sigmoid(2) = 1, so normalising leaves them; then × 2.5.
  CHECK(weights[0] == Approx(2.5f * sigmoid(-2)).epsilon(1e-5));
  CHECK(weights[1] == Approx(2.5f * sigmoid(2)).epsilon(1e-5));

  // Without the bias: groups 3 (1.22) and 2 (1.46) win; experts 7 then 4 (4 before 5 on a tie).
  route_token(c, ModelFamily::DeepseekMoe, logits, nullptr, experts, weights);
  CHECK(experts[0] == 7);
  CHECK(experts[1] == 4);
  const float sum = sigmoid(3) + sigmoid(1);
  CHECK(weights[0] == Approx(2.5f * sigmoid(3) / sum).epsilon(1e-5));
}

TEST_CASE("router: DeepSeek-V2 greedy softmax, scaled only when not normalised", "[backend][moe]") {
  MoeConfig c;
  c.num_experts = 4;
  c.top_k = 2;
  c.routed_scaling_factor = 2.0;
  const float logits[4] = {std::log(1.0f), std::log(2.0f), std::log(3.0f), std::log(4.0f)};  // softmax = k/10
  int32_t experts[2];
  float weights[2];
  route_token(c, ModelFamily::DeepseekMoe, logits, nullptr, experts, weights);
  CHECK(experts[0] == 3);
  CHECK(experts[1] == 2);
  CHECK(weights[0] == Approx(0.8f));  // 0.4 × 2
  CHECK(weights[1] == Approx(0.6f));
  c.norm_topk_prob = true;  // V2: normalise instead of scaling
  route_token(c, ModelFamily::DeepseekMoe, logits, nullptr, experts, weights);
  CHECK(weights[0] == Approx(4.0f / 7.0f));
  CHECK(weights[1] == Approx(3.0f / 7.0f));
  c.topk_method = "group_limited_greedy";  // groups {0,1} {2,3}; the best group holds both winners
  c.n_group = 2;
  c.topk_group = 1;
  route_token(c, ModelFamily::DeepseekMoe, logits, nullptr, experts, weights);
  CHECK(experts[0] == 3);
  CHECK(experts[1] == 2);
}
