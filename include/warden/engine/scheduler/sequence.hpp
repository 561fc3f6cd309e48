#pragma once
// One request as the scheduler sees it: its tokens (prompt, then generated ones), how many
// of them already have K/V in the cache, and the blocks holding that K/V.
#include <cstdint>
#include <vector>

#include "warden/engine/kv/block_manager.hpp"

namespace warden::engine::scheduler {

enum class SequenceStatus { Waiting, Running, Finished };

struct Sequence {
  int64_t id = 0;
  std::vector<int32_t> tokens;  // prompt followed by generated tokens
  int32_t num_prompt_tokens = 0;
  // Tokens whose K/V are in the blocks. The newest sampled token is never computed yet,
  // so a decoding sequence has num_computed == tokens.size() - 1.
  int32_t num_computed = 0;
  kv::BlockTable table;
  SequenceStatus status = SequenceStatus::Waiting;
  uint64_t arrival = 0;  // admission order; larger = younger (preempted first)
  // Prompt tokens served from the prefix cache at first admission (-1 until admitted).
  int32_t num_cached_prompt_tokens = -1;
  int32_t num_preemptions = 0;
  // Set by the engine when the request's output buffer is full: the sequence keeps its
  // blocks but is skipped until the consumer catches up (backpressure on this request only).
  bool paused = false;

  int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
  int32_t num_generated() const { return num_tokens() - num_prompt_tokens; }
  int32_t num_uncomputed() const { return num_tokens() - num_computed; }
};

}  // namespace warden::engine::scheduler
