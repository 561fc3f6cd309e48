#include "step_metadata.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"

namespace warden::engine::cuda {

namespace {

constexpr size_t kAlign = 16;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

int32_t blocks_for(int64_t tokens, int32_t block_tokens) { return int32_t((tokens + block_tokens - 1) / block_tokens); }

}  // namespace

void StepMetadata::check(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling,
                         const StepLimits& limits) const {
  int64_t total = 0, logit_slices = 0;
  for (const SequenceSlice& s : batch.seqs) {
    if (s.num_new_tokens < 0 || s.num_cached_tokens < 0) throw std::logic_error("negative token count in a slice");
    total += s.num_new_tokens;
    if (s.need_logits) ++logit_slices;
    if (s.num_new_tokens == 0) continue;
    const int64_t end = int64_t(s.num_cached_tokens) + s.num_new_tokens;
    if (end > limits.max_positions)
      throw std::out_of_range("position " + std::to_string(end - 1) + " beyond the rope table (" +
                              std::to_string(limits.max_positions) + " positions)");
    const int32_t need = blocks_for(end, limits.block_tokens);
    if (int64_t(s.block_table.size()) < need)
      throw std::logic_error("block table of " + std::to_string(s.block_table.size()) + " blocks does not cover " +
                             std::to_string(end) + " tokens");
    for (int32_t b = 0; b < need; ++b)
      if (s.block_table[size_t(b)] < 0 || s.block_table[size_t(b)] >= limits.num_blocks)
        throw std::out_of_range("KV block id " + std::to_string(s.block_table[size_t(b)]) + " outside the pool of " +
                                std::to_string(limits.num_blocks));
  }
  if (total != int64_t(batch.tokens.size()))
    throw std::logic_error("ForwardBatch has " + std::to_string(batch.tokens.size()) + " tokens but its slices claim " +
                           std::to_string(total));
  for (int32_t t : batch.tokens)
    if (t < 0 || t >= limits.vocab) throw std::out_of_range("token id " + std::to_string(t) + " outside vocab");
  if (sampling && int64_t(sampling->size()) != logit_slices)
    throw std::logic_error("forward_sample: " + std::to_string(sampling->size()) + " sampling rows for " +
                           std::to_string(logit_slices) + " slices that need logits");
}

void StepMetadata::build(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling,
                         const StepLimits& limits, cudaStream_t stream) {
  check(batch, sampling, limits);
  const int32_t bt = limits.block_tokens;

  // Pass 1: shape of the plan.
  rows = int32_t(batch.tokens.size());
  n_decode = n_prefill = n_logits = 0;
  decode_max_blocks = decode_max_context = prefill_max_blocks = prefill_max_context = max_q_len = 0;
  for (const SequenceSlice& s : batch.seqs) {
    const int32_t n = s.num_new_tokens;
    if (n == 0) continue;
    const int32_t ctx = s.num_cached_tokens + n;
    if (s.need_logits) ++n_logits;
    if (n == 1) {
      ++n_decode;
      decode_max_blocks = std::max(decode_max_blocks, blocks_for(ctx, bt));
      decode_max_context = std::max(decode_max_context, ctx);
    } else {
      ++n_prefill;
      prefill_max_blocks = std::max(prefill_max_blocks, blocks_for(ctx, bt));
      prefill_max_context = std::max(prefill_max_context, ctx);
      max_q_len = std::max(max_q_len, n);
    }
  }
  prefill_row0 = n_decode;

  // Section offsets (bytes) in the packed buffer.
  size_t at = 0;
  auto take = [&](size_t bytes) {
    const size_t off = at;
    at = align_up(at + bytes);
    return off;
  };
  const size_t i4 = sizeof(int32_t);
  const size_t o_tokens = take(size_t(rows) * i4), o_pos = take(size_t(rows) * i4), o_slots = take(size_t(rows) * i4);
  const size_t o_dtab = take(size_t(n_decode) * size_t(decode_max_blocks) * i4), o_dctx = take(size_t(n_decode) * i4);
  const size_t o_ptab = take(size_t(n_prefill) * size_t(prefill_max_blocks) * i4), o_pctx = take(size_t(n_prefill) * i4);
  const size_t o_qs = take(size_t(n_prefill + 1) * i4), o_lrows = take(size_t(n_logits) * i4);
  const size_t o_samp = take(sampling ? size_t(n_logits) * sizeof(kernels::SamplingRow) : 0);
  const size_t bytes = std::max<size_t>(at, kAlign);
  host_.ensure(bytes);
  device_.ensure(bytes);
  auto* h = static_cast<uint8_t*>(host_.get());
  std::memset(h, 0, bytes);  // padding of the block tables reads as block 0, never used
  auto hp = [&](size_t off) { return reinterpret_cast<int32_t*>(h + off); };

  // Pass 2: rows. Decode slices take rows [0, n_decode) in slice order, prefill chunks follow.
  row_start_.assign(batch.seqs.size(), 0);
  int32_t next_decode = 0, next_prefill = n_decode, di = 0, pi = 0, li = 0;
  int32_t* q_starts_h = hp(o_qs);
  q_starts_h[0] = 0;
  size_t src = 0;
  for (size_t si = 0; si < batch.seqs.size(); ++si) {
    const SequenceSlice& s = batch.seqs[si];
    const int32_t n = s.num_new_tokens;
    if (n == 0) continue;
    const int32_t ctx = s.num_cached_tokens + n, nblocks = blocks_for(ctx, bt);
    int32_t r0;
    if (n == 1) {
      r0 = next_decode++;
      std::copy_n(s.block_table.begin(), nblocks, hp(o_dtab) + size_t(di) * size_t(decode_max_blocks));
      hp(o_dctx)[di++] = ctx;
    } else {
      r0 = next_prefill;
      next_prefill += n;
      std::copy_n(s.block_table.begin(), nblocks, hp(o_ptab) + size_t(pi) * size_t(prefill_max_blocks));
      hp(o_pctx)[pi] = ctx;
      q_starts_h[pi + 1] = q_starts_h[pi] + n;
      ++pi;
    }
    row_start_[si] = r0;
    for (int32_t i = 0; i < n; ++i, ++src) {
      const int32_t r = r0 + i, pos = s.num_cached_tokens + i;
      hp(o_tokens)[r] = batch.tokens[src];
      hp(o_pos)[r] = pos;
      hp(o_slots)[r] = s.block_table[size_t(pos / bt)] * bt + pos % bt;
    }
  }
  // Logit rows and sampling rows in slice order (slices with no new tokens have no row;
  // their sampling entry is skipped with them).
  auto* samp = reinterpret_cast<kernels::SamplingRow*>(h + o_samp);
  size_t need_index = 0;
  for (size_t si = 0; si < batch.seqs.size(); ++si) {
    const SequenceSlice& s = batch.seqs[si];
    if (!s.need_logits) continue;
    const size_t k = need_index++;
    if (s.num_new_tokens == 0) continue;
    hp(o_lrows)[li] = row_start_[si] + s.num_new_tokens - 1;
    if (sampling) {
      const DeviceSampling& d = (*sampling)[k];
      samp[li] = kernels::SamplingRow{d.temperature, d.top_p, d.top_k, d.seed, d.step};
    }
    ++li;
  }

  WARDEN_CUDA_CHECK(cudaMemcpyAsync(device_.get(), host_.get(), at, cudaMemcpyHostToDevice, stream));
  auto dp = [&](size_t off) { return reinterpret_cast<const int32_t*>(device_.as<uint8_t>() + off); };
  tokens = dp(o_tokens);
  positions = dp(o_pos);
  slots = dp(o_slots);
  decode_tables = dp(o_dtab);
  decode_context = dp(o_dctx);
  prefill_tables = dp(o_ptab);
  prefill_context = dp(o_pctx);
  q_starts = dp(o_qs);
  logit_rows = dp(o_lrows);
  sampling_rows = sampling ? reinterpret_cast<const kernels::SamplingRow*>(device_.as<uint8_t>() + o_samp) : nullptr;
}

}  // namespace warden::engine::cuda
