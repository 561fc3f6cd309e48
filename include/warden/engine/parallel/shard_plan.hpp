#pragma once
// Tensor parallelism (Megatron layout): which part of the model one rank of `world`
// holds. Column-parallel (output rows split): q/k/v, gate/up, the MLA q and kv_b
// projections, the LM head (vocab-parallel). Row-parallel (input columns split, partial
// sums all-reduced): o_proj and down_proj. Everything else is replicated: embedding,
// norms, MoE router, MLA's q_a/kv_a (the latent is shared by all heads).
//
// Choices:
//  - LM head vocab-parallel, gathered: it is the largest single matrix of the models we
//    serve (Qwen 151936 × 1536 ≈ 13% of R1-Distill-Qwen-1.5B) and a decode step reads it
//    whole, so replicating it would cost every rank the full read each step; the gather
//    moves only rows × vocab floats. With a tied embedding the shard is a row range of
//    the embedding (a view, no copy).
//  - KV heads: split when num_kv_heads % world == 0, replicated when world is a multiple
//    of num_kv_heads (each rank holds the one KV head its query heads read; vLLM does the
//    same), so GQA models with few KV heads (2 in R1-Distill-Qwen) still shard.
//  - MoE: every routed expert (and the shared expert) is split by intermediate columns
//    and the router is replicated, so all ranks route identically and the block keeps its
//    one all-reduce; expert parallelism would need a token all-to-all.
#include <cstdint>

#include "warden/engine/model/model_config.hpp"

namespace warden::engine::parallel {

struct Range {
  int32_t begin = 0;
  int32_t size = 0;
  int32_t end() const { return begin + size; }
};

struct ShardPlan {
  int32_t rank = 0;
  int32_t world = 1;
  Range heads;                // query heads (under MLA also their K/V heads)
  Range kv_heads;             // KV heads this rank computes and caches
  Range intermediate;         // dense MLP columns
  Range expert_intermediate;  // columns of every routed expert
  Range shared_intermediate;  // columns of the shared-expert MLP
  Range vocab;                // LM-head rows; may be short (or empty) on the last ranks
  int32_t vocab_chunk = 0;    // ceil(vocab / world): the width every rank contributes to the gather
  bool adds_o_bias = true;    // row-parallel bias is added by rank 0 only, not world times
  // The model's config with this rank's head and column counts (num_heads, num_kv_heads,
  // intermediate sizes); hidden_size, head_dim and vocab_size stay global.
  ModelConfig shard_config;
};

// Throws std::invalid_argument naming the field and the rule when `world` can't split
// the model (num_heads % world, num_kv_heads vs world, intermediate sizes % world).
void validate_tensor_parallel(const ModelConfig& config, int32_t world);

// Validates, then returns rank's share.
ShardPlan make_shard_plan(const ModelConfig& config, int32_t rank, int32_t world);

}  // namespace warden::engine::parallel
