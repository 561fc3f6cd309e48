#!/usr/bin/env python3
"""GPU performance of the engine against ceilings and a peer measured in the same run.

Run by scripts/gpu-day (step "perf") on the device machine:
  1. ceilings through PyTorch: device-to-device copy bandwidth (bytes read + written) and
     the bf16 GEMM rate (8192^3, random data), each the median of timed repeats after
     warm-up, with CUDA events;
  2. warden: bench/engine/engine_bench on cuda:0 (whole Engine: scheduler, paged KV, CUDA
     backend, device sampling) at each batch, given the copy bandwidth, plus the TTFT of a
     long prompt that misses the prefix cache and the same prompt again (hit);
  3. the peer: the same model folder (same weights) in transformers, bf16, PyTorch eager
     (no torch.compile, no CUDA graphs, sdpa attention), same batch, prompt and number of
     generated tokens, greedy with its KV cache.
Writes perf.md (a markdown section bench/RESULTS.md takes verbatim) and perf.json.

Usage: gpu_perf.py --model DIR --engine-bench BIN --out DIR [--batches 1,8,32,64]
                   [--prompt 512] [--gen 64] [--ttft-prompt 4096]
Exits 77 when torch.cuda is unavailable (skipped), 1 on a failure.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "kernels"))
from gpu_python import load_causal_lm, require_cuda_torch  # noqa: E402

torch = require_cuda_torch("gpu_perf")


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def timed_ms(fn, warmup=3, reps=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return median(times)


def copy_bandwidth_gbs():
    """Device-to-device copy of 2 GiB, several source/destination pairs so L2 never holds
    them; counts bytes read plus bytes written."""
    n = 1 << 30  # bf16 elements: 2 GiB per buffer
    src = [torch.randn(n, device="cuda", dtype=torch.bfloat16) for _ in range(2)]
    dst = [torch.empty_like(src[0]) for _ in range(2)]
    i = [0]

    def copy():
        k = i[0] % 2
        dst[k].copy_(src[k])
        i[0] += 1

    ms = timed_ms(copy)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n * 2 / (ms * 1e-3) / 1e9


def gemm_tflops(size=8192):
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    ms = timed_ms(lambda: a @ b)
    return 2 * size**3 / (ms * 1e-3) / 1e12


def torch_eager(model_dir, batches, prompt, gen):
    """Greedy generation in transformers eager mode: prefill (logits of the last position
    only), then gen-1 decode steps feeding the argmax back through the KV cache."""
    model = load_causal_lm(model_dir, torch.bfloat16, attn_implementation="sdpa")
    vocab = model.config.vocab_size
    gen_rng = torch.Generator(device="cuda").manual_seed(11)
    rows = {}
    with torch.no_grad():
        for b in [1] + batches:  # the first batch-1 run is a warm-up
            ids = torch.randint(0, vocab, (b, prompt), device="cuda", generator=gen_rng)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            torch.cuda.synchronize()
            prefill_s = time.perf_counter() - t0
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            t0 = time.perf_counter()
            for _ in range(gen - 1):
                out = model(input_ids=nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            torch.cuda.synchronize()
            decode_s = time.perf_counter() - t0
            rows[b] = {"prefill_tps": b * prompt / prefill_s, "decode_tps": b * (gen - 1) / decode_s}
            del out, past
            torch.cuda.empty_cache()
    del model
    torch.cuda.empty_cache()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--engine-bench", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", default="1,8,32,64")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--ttft-prompt", type=int, default=4096)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    os.makedirs(args.out, exist_ok=True)

    name = torch.cuda.get_device_name(0)
    bw = copy_bandwidth_gbs()
    tflops = gemm_tflops()
    print(f"gpu_perf: {name}: copy {bw:.0f} GB/s (read+write), bf16 GEMM {tflops:.0f} TFLOP/s", flush=True)

    eb_json = os.path.join(args.out, "engine_bench.json")
    cmd = [args.engine_bench, "--model", args.model, "--device", "cuda:0", "--batches", args.batches,
           "--prompt", str(args.prompt), "--gen", str(args.gen), "--ttft-prompt", str(args.ttft_prompt),
           "--max-batched-tokens", "8192", "--bandwidth-gbs", f"{bw:.1f}", "--json", eb_json]
    print("gpu_perf: " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout)
    if proc.returncode != 0:
        print(proc.stderr)
        print(f"gpu_perf: engine_bench failed ({proc.returncode})")
        return 1
    eb = json.load(open(eb_json))

    peer = {}
    if not args.skip_peer:
        try:
            peer = torch_eager(args.model, batches, args.prompt, args.gen)
        except Exception as e:  # the peer failing must not hide warden's own figures
            print(f"gpu_perf: PyTorch eager peer failed: {e!r}")

    commit = os.environ.get("GPU_DAY_COMMIT") or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ")
    gemm_prefill_roof = tflops * 1e12 / (2 * eb["body_params"])
    lines = [
        f"### CUDA engine — {name}, {date}, warden {commit or 'unknown'}",
        "",
        f"Model: random-weight R1-Distill-Qwen-1.5B shape (`warden model make-tiny --preset r1-distill-qwen-1.5b`), "
        f"{eb['params'] / 1e9:.2f} B parameters, bf16 ({eb['weight_bytes'] / 1e9:.2f} GB streamed per decode step). "
        f"Prompt {args.prompt} tokens, {args.gen} generated, greedy, whole Engine (scheduler, paged KV, device sampling).",
        f"Ceilings measured in this run (PyTorch, CUDA events, median of 10): device copy **{bw:.0f} GB/s** "
        f"(read+write), bf16 GEMM 8192³ **{tflops:.0f} TFLOP/s**.",
        "Decode roofline = batch × copy bandwidth / (weights + KV read per step); prefill roofline = GEMM rate / "
        "(2 × non-embedding parameters). Peer: transformers in PyTorch eager (sdpa attention, no compile, no graphs), "
        "same weights, batch, prompt and generated tokens.",
        "",
        "| batch | decode tok/s | HBM roofline tok/s | fraction | PyTorch eager decode tok/s | warden / eager "
        "| prefill tok/s | GEMM roofline tok/s | fraction | PyTorch eager prefill tok/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for r in eb["rows"]:
        b = r["batch"]
        roof = b * bw * 1e9 / r["bytes_per_step"]
        p = peer.get(b, {})
        row = dict(r, roofline_tps=roof, decode_fraction=r["decode_tps"] / roof,
                   prefill_roofline_tps=gemm_prefill_roof, prefill_fraction=r["prefill_tps"] / gemm_prefill_roof,
                   eager_decode_tps=p.get("decode_tps"), eager_prefill_tps=p.get("prefill_tps"))
        rows.append(row)
        eager_d = f"{p['decode_tps']:.0f}" if p else "n/a"
        ratio = f"{r['decode_tps'] / p['decode_tps']:.2f}×" if p else "n/a"
        eager_p = f"{p['prefill_tps']:.0f}" if p else "n/a"
        lines.append(f"| {b} | {r['decode_tps']:.0f} | {roof:.0f} | {row['decode_fraction']:.2f} | {eager_d} | {ratio} "
                     f"| {r['prefill_tps']:.0f} | {gemm_prefill_roof:.0f} | {row['prefill_fraction']:.2f} | {eager_p} |")
    t = eb.get("ttft")
    if t:
        lines += ["", f"TTFT, {t['prompt']}-token prompt (median of 3): prefix-cache miss **{t['miss_ms']:.1f} ms**, "
                      f"hit **{t['hit_ms']:.1f} ms** ({t['cached']} prompt tokens from cache), "
                      f"{t['miss_ms'] / max(t['hit_ms'], 1e-6):.1f}× faster."]
    text = "\n".join(lines) + "\n"
    open(os.path.join(args.out, "perf.md"), "w").write(text)
    json.dump({"device": name, "date": date, "commit": commit, "copy_gbs": bw, "gemm_tflops": tflops,
               "rows": rows, "ttft": t}, open(os.path.join(args.out, "perf.json"), "w"), indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
