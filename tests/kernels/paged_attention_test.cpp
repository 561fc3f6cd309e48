// [gpu] paged decode and prefill attention against the CPU backend's
// cpu::paged_attention on the same bf16-exact inputs.
//
// Each scenario builds one KV pool with shuffled, non-contiguous block tables (unused
// table entries are -1, so reading past a sequence's blocks faults under memcheck),
// fills the device cache ([block][kv_head][token][dim] bf16) and the CPU pool
// ([block][token][kv_head·dim] fp32) with the same numbers, and compares every output
// element. Output rows carry padding pre-filled with NaN bits that must survive.
//
// Error bounds (|got - want| <= atol + rtol·|want|), want from the fp32 CPU path:
//  - both kernels round the output to bf16: <= 2^-9·|want| (rtol 8e-3 leaves room for
//    fp32 summation-order differences around the rounding point);
//  - decode keeps probabilities in fp32: atol 1e-4 only absorbs fp32 noise near zero
//    (long contexts give outputs ~1e-2, so a lost split or token would show);
//  - prefill feeds P·V probabilities rounded to bf16 (tensor cores): each weight is off
//    by <= 2^-9 relative, which moves an output by at most 2^-9·Σp|v - out|/Σp <= 2^-8
//    for V in [-1, 1]; random signs keep it near 1e-3 in practice (a lane-level model
//    of the kernel in numpy showed <= 1.2e-3 beyond the rtol part), so atol 3e-3.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kernels/gpu_test_support.hpp"
#include "kernels/paged_attention.cuh"
#include "warden/engine/backend/cpu/paged_attention.hpp"
#include "warden/engine/backend/cpu/paged_kv_pool.hpp"
#include "warden/engine/backend/cpu/thread_pool.hpp"

namespace {

using namespace warden::kernels;
using namespace warden::kernels::test;
namespace cpu = warden::engine::cpu;

struct Scenario {
  int32_t num_kv_heads = 2;
  int32_t group = 4;  // query heads per KV head
  int32_t k_dim = 128;
  int32_t v_dim = 128;
  int32_t block_tokens = 16;
  std::vector<int32_t> ctx;    // KV length per sequence, new tokens included
  std::vector<int32_t> q_len;  // new tokens per sequence (decode: leave empty = all 1)
  uint64_t seed = 1;
  int64_t q_pad = 24;  // extra elements at the end of each q row (odd: unaligned rows)
  int64_t out_pad = 8;

  int32_t num_heads() const { return num_kv_heads * group; }
  int32_t n_seqs() const { return int32_t(ctx.size()); }
  int32_t new_tokens(int32_t s) const { return q_len.empty() ? 1 : q_len[size_t(s)]; }
};

// Host picture of the paged KV cache shared by both sides.
struct PagedKv {
  int32_t num_blocks = 0, max_blocks_per_seq = 0;
  std::vector<std::vector<int32_t>> tables;  // per sequence
  std::vector<int32_t> table_flat;           // [n_seqs][max_blocks_per_seq], -1 past the end
  std::vector<float> k, v;                   // device layout, bf16-exact
};

PagedKv make_paged_kv(const Scenario& sc) {
  PagedKv kv;
  std::vector<int32_t> need;
  int32_t total = 0;
  for (int32_t c : sc.ctx) {
    need.push_back((c + sc.block_tokens - 1) / sc.block_tokens);
    total += need.back();
  }
  kv.num_blocks = total + 3;  // a few blocks nobody owns
  std::vector<int32_t> ids(size_t(kv.num_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  TestRng rng(sc.seed * 7919 + 11);
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[size_t(rng.below(int32_t(i)))]);
  size_t next = 0;
  for (int32_t n : need) {
    kv.tables.emplace_back(ids.begin() + long(next), ids.begin() + long(next + size_t(n)));
    next += size_t(n);
  }
  kv.max_blocks_per_seq = *std::max_element(need.begin(), need.end()) + 1;
  kv.table_flat.assign(size_t(sc.n_seqs()) * size_t(kv.max_blocks_per_seq), -1);
  for (size_t s = 0; s < kv.tables.size(); ++s)
    std::copy(kv.tables[s].begin(), kv.tables[s].end(), kv.table_flat.begin() + long(s * size_t(kv.max_blocks_per_seq)));
  const size_t rows = size_t(kv.num_blocks) * size_t(sc.num_kv_heads) * size_t(sc.block_tokens);
  kv.k = random_floats(rows * size_t(sc.k_dim), sc.seed * 31 + 1);
  kv.v = random_floats(rows * size_t(sc.v_dim), sc.seed * 31 + 2);
  return kv;
}

// The same numbers in the CPU backend's pool layout.
void fill_cpu_pool(const Scenario& sc, const PagedKv& kv, cpu::PagedKvPool& pool) {
  pool.allocate(1, kv.num_blocks, sc.block_tokens, sc.num_kv_heads * sc.k_dim, sc.num_kv_heads * sc.v_dim);
  for (int32_t b = 0; b < kv.num_blocks; ++b) {
    const std::vector<int32_t> one{b};
    for (int32_t o = 0; o < sc.block_tokens; ++o) {
      float* kr = pool.key(0, one, o);
      float* vr = pool.value(0, one, o);
      for (int32_t h = 0; h < sc.num_kv_heads; ++h) {
        const size_t row = (size_t(b) * size_t(sc.num_kv_heads) + size_t(h)) * size_t(sc.block_tokens) + size_t(o);
        std::copy_n(kv.k.begin() + long(row * size_t(sc.k_dim)), sc.k_dim, kr + size_t(h) * size_t(sc.k_dim));
        std::copy_n(kv.v.begin() + long(row * size_t(sc.v_dim)), sc.v_dim, vr + size_t(h) * size_t(sc.v_dim));
      }
    }
  }
}

// Everything one kernel call needs, uploaded, plus the CPU reference output.
struct Prepared {
  Scenario sc;
  PagedKv kv;
  std::vector<int32_t> q_starts;
  int32_t total_q = 0, max_q_len = 0, max_ctx = 0;
  int64_t q_stride = 0, out_stride = 0;
  std::vector<float> want;  // [total_q][num_heads * v_dim]
  DeviceBuffer<bf16> q_d, k_d, v_d, out_d;
  DeviceBuffer<int32_t> tables_d, ctx_d, q_starts_d;

  PagedAttentionBatch batch() const {
    PagedAttentionBatch b;
    b.n_seqs = sc.n_seqs();
    b.block_tables = tables_d.get();
    b.max_blocks_per_seq = kv.max_blocks_per_seq;
    b.context_lens = ctx_d.get();
    b.max_context = max_ctx;
    return b;
  }
  PagedKvLayout layout() const {
    PagedKvLayout l;
    l.num_kv_heads = sc.num_kv_heads;
    l.k_dim = sc.k_dim;
    l.v_dim = sc.v_dim;
    l.block_tokens = sc.block_tokens;
    return l;
  }
  AttentionHeads heads() const {
    AttentionHeads h;
    h.num_heads = sc.num_heads();
    h.scale = 1.0f / std::sqrt(float(sc.k_dim));
    return h;
  }
};

Prepared prepare(const Scenario& sc) {
  Prepared p;
  p.sc = sc;
  p.kv = make_paged_kv(sc);
  p.q_starts.push_back(0);
  for (int32_t s = 0; s < sc.n_seqs(); ++s) {
    REQUIRE(sc.new_tokens(s) <= sc.ctx[size_t(s)]);
    p.q_starts.push_back(p.q_starts.back() + sc.new_tokens(s));
    p.max_q_len = std::max(p.max_q_len, sc.new_tokens(s));
    p.max_ctx = std::max(p.max_ctx, sc.ctx[size_t(s)]);
  }
  p.total_q = p.q_starts.back();
  const int64_t q_row = int64_t(sc.num_heads()) * sc.k_dim, o_row = int64_t(sc.num_heads()) * sc.v_dim;
  p.q_stride = q_row + sc.q_pad;
  p.out_stride = o_row + sc.out_pad;

  // q in [-2, 2] sharpens the softmax beyond what [-1, 1] gives at these widths.
  const std::vector<float> q_rows = random_floats(size_t(p.total_q) * size_t(p.q_stride), sc.seed * 31 + 3, -2.0f, 2.0f);
  std::vector<float> q_packed(size_t(p.total_q) * size_t(q_row));
  for (int32_t r = 0; r < p.total_q; ++r)
    std::copy_n(q_rows.begin() + long(r * p.q_stride), q_row, q_packed.begin() + long(r * q_row));

  cpu::PagedKvPool pool;
  fill_cpu_pool(sc, p.kv, pool);
  cpu::ThreadPool threads;
  const cpu::AttentionShape shape{sc.num_heads(), sc.num_kv_heads, sc.k_dim, sc.v_dim, p.heads().scale};
  p.want.assign(size_t(p.total_q) * size_t(o_row), 0.0f);
  for (int32_t s = 0; s < sc.n_seqs(); ++s) {
    const int32_t n = sc.new_tokens(s), r0 = p.q_starts[size_t(s)];
    cpu::paged_attention(shape, q_packed.data() + int64_t(r0) * q_row, n, sc.ctx[size_t(s)] - n, 0,
                         p.kv.tables[size_t(s)], pool, threads, p.want.data() + int64_t(r0) * o_row);
  }

  p.q_d = DeviceBuffer<bf16>(to_bf16(q_rows));
  p.k_d = DeviceBuffer<bf16>(to_bf16(p.kv.k));
  p.v_d = DeviceBuffer<bf16>(to_bf16(p.kv.v));
  p.out_d = DeviceBuffer<bf16>(size_t(p.total_q) * size_t(p.out_stride));
  p.out_d.fill_bytes(0xff);  // NaN: an element never written shows
  p.tables_d = DeviceBuffer<int32_t>(p.kv.table_flat);
  p.ctx_d = DeviceBuffer<int32_t>(sc.ctx);
  p.q_starts_d = DeviceBuffer<int32_t>(p.q_starts);
  return p;
}

// Compares the real part of every output row and checks the row padding is untouched.
void check_output(const Prepared& p, float atol, float rtol) {
  const std::vector<bf16> raw = p.out_d.download();
  const int64_t o_row = int64_t(p.sc.num_heads()) * p.sc.v_dim;
  std::vector<float> got(p.want.size());
  size_t pad_changed = 0;
  for (int32_t r = 0; r < p.total_q; ++r) {
    for (int64_t i = 0; i < o_row; ++i) got[size_t(r * o_row + i)] = from_bf16(raw[size_t(r * p.out_stride + i)]);
    for (int64_t i = o_row; i < p.out_stride; ++i) pad_changed += bits_of(raw[size_t(r * p.out_stride + i)]) != 0xffff;
  }
  float mean_abs = 0.0f;
  for (float w : p.want) mean_abs += std::fabs(w);
  mean_abs /= float(p.want.size());
  const float err = max_scaled_error(got, p.want, atol, rtol);
  INFO("heads " << p.sc.num_heads() << "/" << p.sc.num_kv_heads << ", k_dim " << p.sc.k_dim << ", v_dim "
                << p.sc.v_dim << ", block_tokens " << p.sc.block_tokens << ", max |diff| "
                << max_abs_diff(got, p.want) << ", mean |want| " << mean_abs);
  CHECK(err <= 1.0f);
  CHECK(pad_changed == 0);
  CHECK(mean_abs > 1e-3f);  // the reference is not trivially zero
}

constexpr float kDecodeAtol = 1e-4f, kDecodeRtol = 8e-3f;
constexpr float kPrefillAtol = 3e-3f, kPrefillRtol = 8e-3f;

// Decode with the workspace the kernel asks for, plus a guard region that must stay intact.
void run_decode(const Scenario& sc) {
  Prepared p = prepare(sc);
  const size_t ws = paged_decode_attention_workspace_bytes(p.batch(), p.layout(), p.heads());
  constexpr size_t kGuard = 4096;
  DeviceBuffer<uint8_t> ws_d(ws + kGuard);
  ws_d.fill_bytes(0xab);
  paged_decode_attention(p.q_d.get(), p.q_stride, p.batch(), p.layout(), p.heads(), p.k_d.get(), p.v_d.get(),
                         p.out_d.get(), p.out_stride, ws_d.get(), ws, nullptr);
  sync_and_check();
  check_output(p, kDecodeAtol, kDecodeRtol);
  const std::vector<uint8_t> bytes = ws_d.download();
  CHECK(std::all_of(bytes.begin() + long(ws), bytes.end(), [](uint8_t b) { return b == 0xab; }));
}

void run_prefill(const Scenario& sc) {
  Prepared p = prepare(sc);
  paged_prefill_attention(p.q_d.get(), p.q_stride, p.q_starts_d.get(), p.max_q_len, p.batch(), p.layout(),
                          p.heads(), p.k_d.get(), p.v_d.get(), p.out_d.get(), p.out_stride, nullptr);
  sync_and_check();
  check_output(p, kPrefillAtol, kPrefillRtol);
}

}  // namespace

// ---- decode ------------------------------------------------------------------------

TEST_CASE("paged decode: mixed lengths around block and partition boundaries", "[gpu][attention]") {
  Scenario sc;
  sc.ctx = {1, 15, 16, 17, 33, 64, 100, 512, 513};  // 512 + 1: a split boundary one token short of the end
  sc.seed = 101;
  run_decode(sc);
}

TEST_CASE("paged decode: GQA ratios 1, 2, 4, 7", "[gpu][attention]") {
  for (int32_t group : {1, 2, 4, 7}) {
    Scenario sc;
    sc.group = group;
    sc.k_dim = sc.v_dim = 64;
    sc.ctx = {5, 48, 130, 700};
    sc.seed = 200 + uint64_t(group);
    INFO("group " << group);
    run_decode(sc);
  }
}

TEST_CASE("paged decode: k_dim != v_dim (MLA 192/128) and odd widths with odd block sizes", "[gpu][attention]") {
  Scenario mla;
  mla.num_kv_heads = 1;
  mla.group = 4;
  mla.k_dim = 192;
  mla.v_dim = 128;
  mla.ctx = {77, 600};
  mla.seed = 301;
  run_decode(mla);

  Scenario odd;
  odd.group = 3;
  odd.k_dim = 72;
  odd.v_dim = 40;
  odd.block_tokens = 7;
  odd.ctx = {1, 7, 50, 1025};
  odd.q_pad = 3;
  odd.seed = 302;
  run_decode(odd);
}

TEST_CASE("paged decode: long contexts use several splits merged exactly", "[gpu][attention]") {
  Scenario sc;
  sc.ctx = {5000, 1200, 3};  // dozens of partitions, a few, and one
  sc.seed = 401;
  run_decode(sc);
}

TEST_CASE("paged decode: workspace sizes", "[gpu][attention]") {
  Scenario sc;
  sc.ctx = {5000, 1200, 3};
  sc.seed = 402;
  Prepared p = prepare(sc);
  const size_t full = paged_decode_attention_workspace_bytes(p.batch(), p.layout(), p.heads());
  REQUIRE(full > 0);

  SECTION("one split (contexts within the shortest partition, 128) needs none") {
    Scenario short_ctx = sc;
    short_ctx.ctx = {128, 3};
    Prepared s = prepare(short_ctx);
    CHECK(paged_decode_attention_workspace_bytes(s.batch(), s.layout(), s.heads()) == 0);
  }
  SECTION("a third of it: fewer splits, the last one takes the rest") {
    DeviceBuffer<uint8_t> ws_d(full / 3);
    paged_decode_attention(p.q_d.get(), p.q_stride, p.batch(), p.layout(), p.heads(), p.k_d.get(), p.v_d.get(),
                           p.out_d.get(), p.out_stride, ws_d.get(), ws_d.size(), nullptr);
    sync_and_check();
    check_output(p, kDecodeAtol, kDecodeRtol);
  }
  SECTION("none: one split per sequence") {
    paged_decode_attention(p.q_d.get(), p.q_stride, p.batch(), p.layout(), p.heads(), p.k_d.get(), p.v_d.get(),
                           p.out_d.get(), p.out_stride, nullptr, 0, nullptr);
    sync_and_check();
    check_output(p, kDecodeAtol, kDecodeRtol);
  }
}

TEST_CASE("paged decode: a group larger than one CTA holds, widest heads", "[gpu][attention]") {
  Scenario big;
  big.num_kv_heads = 1;
  big.group = 20;  // two CTAs of 10 heads each
  big.k_dim = big.v_dim = 256;
  big.block_tokens = 32;
  big.ctx = {40, 700};
  big.seed = 501;
  run_decode(big);

  Scenario wide;
  wide.group = 2;
  wide.k_dim = wide.v_dim = 256;
  wide.block_tokens = 64;
  wide.ctx = {129, 2049};
  wide.seed = 502;
  run_decode(wide);
}

// ---- prefill -----------------------------------------------------------------------

TEST_CASE("paged prefill: whole prompts of mixed lengths", "[gpu][attention]") {
  Scenario sc;
  sc.ctx = {1, 16, 37, 64, 65, 130};
  sc.q_len = sc.ctx;
  sc.seed = 601;
  run_prefill(sc);
}

TEST_CASE("paged prefill: chunks that start mid-block after cached tokens", "[gpu][attention]") {
  Scenario sc;
  sc.ctx = {100, 40, 300};
  sc.q_len = {30, 1, 64};  // first positions 70, 39, 236: all inside a block of 16
  sc.q_pad = 3;            // rows not 16-byte aligned: the scalar q path
  sc.seed = 602;
  run_prefill(sc);
}

TEST_CASE("paged prefill: GQA ratios 1, 2, 4, 7", "[gpu][attention]") {
  for (int32_t group : {1, 2, 4, 7}) {
    Scenario sc;
    sc.group = group;
    sc.k_dim = sc.v_dim = 64;
    sc.ctx = {50, 90};
    sc.q_len = {50, 21};
    sc.seed = 700 + uint64_t(group);
    INFO("group " << group);
    run_prefill(sc);
  }
}

TEST_CASE("paged prefill: every head-width bucket, k_dim != v_dim", "[gpu][attention]") {
  struct Dims {
    int32_t k, v, block_tokens;
  };
  for (Dims d : {Dims{192, 128, 16}, Dims{72, 40, 7}, Dims{256, 256, 16}, Dims{160, 176, 32}, Dims{64, 128, 16}}) {
    Scenario sc;
    sc.num_kv_heads = 1;
    sc.group = 4;
    sc.k_dim = d.k;
    sc.v_dim = d.v;
    sc.block_tokens = d.block_tokens;
    sc.ctx = {150, 33};
    sc.q_len = {80, 33};
    sc.seed = 800 + uint64_t(d.k);
    INFO("k_dim " << d.k << " v_dim " << d.v);
    run_prefill(sc);
  }
}

TEST_CASE("paged prefill: long chunk over a long cached prefix", "[gpu][attention]") {
  Scenario sc;
  sc.group = 2;
  sc.ctx = {1000, 260};
  sc.q_len = {200, 3};
  sc.seed = 901;
  run_prefill(sc);
}
