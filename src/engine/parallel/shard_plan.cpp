#include "warden/engine/parallel/shard_plan.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace warden::engine::parallel {

namespace {

std::string tp(int32_t world) { return "tensor_parallel " + std::to_string(world); }

void require_divisible(const char* field, int32_t value, int32_t world) {
  if (value % world != 0)
    throw std::invalid_argument(tp(world) + ": " + field + " " + std::to_string(value) + " is not divisible by " +
                                std::to_string(world));
}

bool has_dense_layer(const ModelConfig& c) {
  for (int32_t l = 0; l < c.num_layers; ++l)
    if (!c.is_moe_layer(l)) return true;
  return false;
}

Range split(int32_t total, int32_t rank, int32_t world) { return Range{total / world * rank, total / world}; }

}  // namespace

void validate_tensor_parallel(const ModelConfig& c, int32_t world) {
  if (world < 1) throw std::invalid_argument("tensor_parallel must be >= 1, got " + std::to_string(world));
  if (world == 1) return;
  require_divisible("num_attention_heads", c.num_heads, world);
  if (c.mla.enabled) {
    // The CPU and CUDA backends cache MLA's decompressed per-head K/V: one KV head per
    // query head, split with them.
    if (c.num_kv_heads != c.num_heads)
      throw std::invalid_argument(tp(world) + ": MLA with num_key_value_heads " + std::to_string(c.num_kv_heads) +
                                  " != num_attention_heads " + std::to_string(c.num_heads) + " is not supported");
  } else if (c.num_kv_heads >= world) {
    if (c.num_kv_heads % world != 0)
      throw std::invalid_argument(tp(world) + ": num_key_value_heads " + std::to_string(c.num_kv_heads) +
                                  " is not divisible by " + std::to_string(world) +
                                  " (and is not a divisor of it, so KV heads can't be replicated either)");
  } else if (world % c.num_kv_heads != 0) {
    throw std::invalid_argument(tp(world) + ": num_key_value_heads " + std::to_string(c.num_kv_heads) +
                                " is smaller than " + std::to_string(world) + " and does not divide it, so KV heads " +
                                "can be neither split nor replicated evenly");
  }
  if (has_dense_layer(c)) require_divisible("intermediate_size", c.intermediate_size, world);
  if (c.moe.num_experts > 0) {
    require_divisible("moe_intermediate_size", c.moe.expert_intermediate, world);
    if (c.moe.shared_intermediate > 0)
      require_divisible("shared expert intermediate size", c.moe.shared_intermediate, world);
  }
}

ShardPlan make_shard_plan(const ModelConfig& c, int32_t rank, int32_t world) {
  validate_tensor_parallel(c, world);
  if (rank < 0 || rank >= world)
    throw std::invalid_argument("rank " + std::to_string(rank) + " outside tensor_parallel " + std::to_string(world));
  ShardPlan p;
  p.rank = rank;
  p.world = world;
  p.heads = split(c.num_heads, rank, world);
  if (c.mla.enabled) {
    p.kv_heads = p.heads;
  } else if (c.num_kv_heads >= world) {
    p.kv_heads = split(c.num_kv_heads, rank, world);
  } else {
    // Replicated: the one KV head that this rank's query heads (all in one group) read.
    const int32_t group = c.num_heads / c.num_kv_heads;
    p.kv_heads = Range{p.heads.begin / group, 1};
  }
  p.intermediate = split(c.intermediate_size, rank, world);
  p.expert_intermediate = split(c.moe.expert_intermediate, rank, world);
  p.shared_intermediate = split(c.moe.shared_intermediate, rank, world);
  p.vocab_chunk = (c.vocab_size + world - 1) / world;
  const int32_t vb = std::min(c.vocab_size, p.vocab_chunk * rank);
  p.vocab = Range{vb, std::min(c.vocab_size, vb + p.vocab_chunk) - vb};
  p.adds_o_bias = rank == 0;

  ModelConfig& s = p.shard_config;
  s = c;
  s.num_heads = p.heads.size;
  s.num_kv_heads = p.kv_heads.size;
  s.intermediate_size = p.intermediate.size;
  s.moe.expert_intermediate = p.expert_intermediate.size;
  s.moe.shared_intermediate = p.shared_intermediate.size;
  return p;
}

}  // namespace warden::engine::parallel
