#!/usr/bin/env python3
"""The CUDA backend against Hugging Face transformers on the GPU machine.

For each model folder (random weights, bf16, written by `warden model make-tiny`):
  - tiny Qwen2, Llama (llama3 rope), Qwen2-MoE, DeepSeek-V2 (MLA, yarn, softmax MoE) and
    DeepSeek-V3 (MLA with q LoRA, sigmoid noaux_tc routing) at vocabulary 512;
  - the real R1-Distill-Qwen-1.5B shape (`--preset r1-distill-qwen-1.5b`, vocabulary
    151936, 28 layers), from --preset-model DIR when the caller made it already.
transformers loads the same folder twice, in bf16 (the peer) and in fp32 (the reference),
on cuda. warden prints the fp32 logits of the last position (`warden logits --device
cuda:0`), whole and in 16-token chunks (chunked prefill over the paged KV cache), and for
the tiny models on the CPU backend too.

Logits bound (per prompt): max |Δ log-prob| over the fp32 reference's top-5 tokens
  <= max(5e-2, 2 × transformers-bf16's own deviation from fp32 on the same prompt),
and the same top-1 unless the reference's top-1/top-2 margin is below that bound. Both
sides keep bf16 weights and activations with fp32 accumulation in different kernels; the
second term scales the bound with depth, as bf16 rounding compounds over 28 layers.

Greedy bound: `warden logits --greedy N` (N decode steps over the paged KV) against the
fp32 reference's greedy continuation: equal up to the first difference, and at that
position the reference's top-1/top-2 margin is < 0.1 (a near-tie a bf16 path may flip,
not a wrong model). The shared prefix length is printed.

Routing near-ties: a random tiny router scores experts within bf16 rounding of each other,
so top-k may pick another expert on either bf16 path, and the V3 family's routed scale
(2.5) makes such a flip cost more than the bound. The DeepSeek-V3 model is therefore also
checked with `make-tiny --decisive-routing`: the same weights with e_score_correction_bias
0.25 apart per expert, which fixes the choice (groups and experts) for every token while
the sigmoid weights, normalisation, scaling, q LoRA and MLA still compute. That run gates;
the random-router run is printed for information (measured on an H200: |Δ| 0.36 at 200
tokens and greedy diverging at the first token on random routing, while the decisive
weights agree within the bound at every length and on all 16 greedy tokens).

A DeepSeek-MoE model with plain GQA attention has no transformers class (its config has no
kv_lora_rank): it is covered by tests/kernels/cuda_model_test.cpp against the CPU backend
and by the float64 reference in tests/reference/. An architecture this transformers
cannot load is reported as SKIPPED with the reason, never as passed.

Exits 77 (skipped) when torch.cuda or transformers is missing; 1 on a failed comparison.
Env: WARDEN_BINARY (default build/engine/warden).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import traceback

BOUND = 5e-2
GREEDY_MARGIN = 0.1
VOCAB = 512
TINY = ("qwen2", "llama", "qwen2-moe", "deepseek-v2", "deepseek-v3")


from gpu_python import load_causal_lm, require_cuda_torch, skip

torch = require_cuda_torch("hf_compare")
try:
    import transformers
except ImportError as e:
    skip("hf_compare", f"transformers is not installed ({e})")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("WARDEN_BINARY") or os.path.join(ROOT, "build", "engine", "warden")
if not os.path.exists(BINARY):
    sys.exit(f"hf_compare: warden binary not found at {BINARY!r} (set WARDEN_BINARY)")


def warden(args):
    proc = subprocess.run([BINARY] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"warden {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def warden_run(model_dir, ids, device, chunk=None, greedy=0):
    args = ["logits", "--model", model_dir, "--ids", ",".join(map(str, ids)), "--device", device]
    if chunk:
        args += ["--chunk", str(chunk)]
    if greedy:
        args += ["--greedy", str(greedy)]
    out = json.loads(warden(args))
    logits = out["logits"] if greedy else out
    lp = torch.log_softmax(torch.tensor(logits, dtype=torch.float64), dim=-1)
    return (lp, out["greedy"]) if greedy else lp


def hf_logprobs(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids], device="cuda"))
    return torch.log_softmax(out.logits[0, -1].double().cpu(), dim=-1)


def hf_greedy(model, ids, n):
    """Greedy continuation with the full forward each step (no cache: nothing of the
    model's cache code is trusted), and the top-1/top-2 margin at each step."""
    seq, margins = list(ids), []
    with torch.no_grad():
        for _ in range(n):
            lp = torch.log_softmax(model(torch.tensor([seq], device="cuda")).logits[0, -1].double(), dim=-1)
            top = torch.topk(lp, 2)
            margins.append((top.values[0] - top.values[1]).item())
            seq.append(int(top.indices[0]))
    return seq[len(ids):], margins


def top5_delta(ref, got):
    top = torch.topk(ref, 5).indices
    return (ref[top] - got[top]).abs().max().item()


def check_logits(ref, peer, got):
    """(delta, bound, ok): warden vs the fp32 reference, bound scaled by the bf16 peer."""
    bound = max(BOUND, 2.0 * top5_delta(ref, peer))
    delta = top5_delta(ref, got)
    top = torch.topk(ref, 2)
    margin = (top.values[0] - top.values[1]).item()
    same = int(torch.argmax(got)) == int(top.indices[0])
    return delta, bound, margin, same, delta <= bound and (same or margin < bound)


def compare_model(label, model_dir, lengths, devices, greedy_n, rng, vocab, failures, skipped, gate=True):
    if not gate:  # informational: results are printed, failures not counted
        failures = []
    try:
        ref_model = load_causal_lm(model_dir, torch.float32)
        peer_model = load_causal_lm(model_dir, torch.bfloat16)
    except Exception as e:
        msg = f"{label}: transformers {transformers.__version__} cannot load it ({type(e).__name__}: {e})"
        print(f"  SKIPPED {msg}")
        skipped.append(msg)
        return
    for length in lengths:
        ids = [rng.randrange(vocab) for _ in range(length)]
        ref = hf_logprobs(ref_model, ids)
        peer = hf_logprobs(peer_model, ids)
        for dev_label, device, chunk in devices:
            try:
                got = warden_run(model_dir, ids, device, chunk=chunk)
            except Exception as e:
                print(f"  {label:34s} len {length:4d} {dev_label:12s} ERROR {e}")
                failures.append(f"{label} len {length} {dev_label}: error")
                continue
            delta, bound, margin, same, ok = check_logits(ref, peer, got)
            print(f"  {label:34s} len {length:4d} {dev_label:12s} max|Δ logprob| top-5 vs fp32 {delta:.4f} "
                  f"(bound {bound:.4f}; HF bf16 {top5_delta(ref, peer):.4f}; ref margin {margin:.3f}, "
                  f"same top-1 {same}) {'ok' if ok else ('FAIL' if gate else 'over (info)')}", flush=True)
            if not ok:
                failures.append(f"{label} len {length} {dev_label}")
    if greedy_n:
        ids = [rng.randrange(vocab) for _ in range(24)]
        try:
            _, got = warden_run(model_dir, ids, "cuda:0", greedy=greedy_n)
            want, margins = hf_greedy(ref_model, ids, greedy_n)
            shared = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), greedy_n)
            ok = shared == greedy_n or margins[shared] < GREEDY_MARGIN
            where = "all equal" if shared == greedy_n else f"first difference at {shared}, ref margin {margins[shared]:.3f}"
            print(f"  {label:34s} greedy {greedy_n} tokens on cuda: shared prefix {shared}/{greedy_n} ({where}) "
                  f"{'ok' if ok else ('FAIL' if gate else 'differs (info)')}", flush=True)
            if not ok:
                failures.append(f"{label} greedy")
        except Exception as e:
            print(f"  {label:34s} greedy ERROR {e}")
            failures.append(f"{label} greedy: error")
    del ref_model, peer_model
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset-model", help="folder of the r1-distill-qwen-1.5b preset (made when absent)")
    ap.add_argument("--only", help="comma-separated subset of: " + ",".join(TINY) + ",r1-distill-qwen-1.5b")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    print(f"hf_compare: torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.cuda.get_device_name(0)}, warden {BINARY}", flush=True)
    failures, skipped = [], []
    rng = random.Random(7)
    devices = (("cuda", "cuda:0", None), ("cuda chunk16", "cuda:0", 16), ("cpu", "cpu", None))
    with tempfile.TemporaryDirectory(prefix="warden-hf-") as tmp:
        for arch in TINY:
            if only and arch not in only:
                continue
            model_dir = os.path.join(tmp, arch)
            try:
                make = ["model", "make-tiny", "--arch", arch, "--vocab", "none", "--vocab-size", str(VOCAB),
                        "--seed", "3", "--dtype", "bf16"]
                warden(make + ["--out", model_dir])
                v3 = arch == "deepseek-v3"
                compare_model(arch + (" (random router, info)" if v3 else ""), model_dir, (1, 17, 200), devices,
                              16, rng, VOCAB, failures, skipped, gate=not v3)
                if v3:
                    warden(make + ["--out", model_dir + "-decisive", "--decisive-routing"])
                    compare_model(arch + " (decisive router)", model_dir + "-decisive", (1, 17, 24, 64, 200),
                                  devices, 16, rng, VOCAB, failures, skipped)
            except Exception:
                traceback.print_exc()
                failures.append(f"{arch}: exception")
        if not only or "r1-distill-qwen-1.5b" in only:
            model_dir = args.preset_model or os.path.join(tmp, "r1-1.5b")
            try:
                if not os.path.exists(os.path.join(model_dir, "config.json")):
                    warden(["model", "make-tiny", "--preset", "r1-distill-qwen-1.5b", "--out", model_dir,
                            "--seed", "3", "--dtype", "bf16"])
                compare_model("r1-distill-qwen-1.5b", model_dir, (17, 300),
                              (("cuda", "cuda:0", None), ("cuda chunk16", "cuda:0", 16)), 32, rng, 151936,
                              failures, skipped)
            except Exception:
                traceback.print_exc()
                failures.append("r1-distill-qwen-1.5b: exception")
    for s in skipped:
        print(f"hf_compare: SKIPPED {s}")
    if failures:
        print("hf_compare: FAILED: " + ", ".join(failures))
        return 1
    print(f"hf_compare: all comparisons within their bounds ({len(skipped)} architectures skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
