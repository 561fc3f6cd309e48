#!/usr/bin/env python3
"""The CUDA backend against Hugging Face transformers on the GPU machine.

Builds tiny random Qwen2 and Llama (llama3 rope scaling) model folders with
`warden model make-tiny` (bf16 weights), loads the same folders with transformers'
Qwen2ForCausalLM / LlamaForCausalLM in bf16 on cuda, and compares the last position's
log-probabilities with `warden logits --device cuda:0` (which prints the fp32 logits of
the last position as one JSON array), whole and in 16-token chunks (chunked prefill over
the paged KV cache).

Bound: max |Δ logprob| over HF's top-5 tokens <= 5e-2 (both sides bf16, fp32
accumulation, different kernels), and the same top-1 unless HF's own top-1/top-2 margin
is below 5e-2. Exits 77 (skipped) with a message when torch.cuda or transformers is
missing; 1 on a failed comparison.

Env: WARDEN_BINARY (default build/engine/warden).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

BOUND = 5e-2
VOCAB = 512


def skip(why):
    print(f"hf_compare: SKIPPED: {why}")
    sys.exit(77)


try:
    import torch
except ImportError:
    skip("PyTorch is not installed")
if not torch.cuda.is_available():
    skip("torch.cuda is not available (no GPU)")
try:
    import transformers
    from transformers import LlamaForCausalLM, Qwen2ForCausalLM
except ImportError as e:
    skip(f"transformers is not installed ({e})")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("WARDEN_BINARY") or os.path.join(ROOT, "build", "engine", "warden")
if not os.path.exists(BINARY):
    sys.exit(f"hf_compare: warden binary not found at {BINARY!r} (set WARDEN_BINARY)")


def warden(args):
    proc = subprocess.run([BINARY] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"warden {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def warden_logprobs(model_dir, ids, device, chunk=None):
    args = ["logits", "--model", model_dir, "--ids", ",".join(map(str, ids)), "--device", device]
    if chunk:
        args += ["--chunk", str(chunk)]
    logits = torch.tensor(json.loads(warden(args)), dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1)


def load_hf(cls, model_dir):
    try:
        model = cls.from_pretrained(model_dir, dtype=torch.bfloat16)
    except TypeError:  # transformers < 4.56 spells it torch_dtype
        model = cls.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    return model.to("cuda").eval()


def hf_logprobs(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids], device="cuda"))
    return torch.log_softmax(out.logits[0, -1].double().cpu(), dim=-1)


def compare(ref, got):
    top = torch.topk(ref, 5).indices
    delta = (ref[top] - got[top]).abs().max().item()
    margin = (ref[top[0]] - ref[top[1]]).item()
    same_top1 = int(torch.argmax(got)) == int(top[0])
    return delta, margin, same_top1


def main():
    print(f"hf_compare: torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.cuda.get_device_name(0)}, warden {BINARY}")
    failures = []
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="warden-hf-") as tmp:
        for arch, cls in (("qwen2", Qwen2ForCausalLM), ("llama", LlamaForCausalLM)):
            model_dir = os.path.join(tmp, arch)
            warden(["model", "make-tiny", "--arch", arch, "--out", model_dir, "--vocab", "none",
                    "--vocab-size", str(VOCAB), "--seed", "3", "--dtype", "bf16"])
            model = load_hf(cls, model_dir)
            for length in (1, 17, 64, 200):
                ids = [rng.randrange(VOCAB) for _ in range(length)]
                ref = hf_logprobs(model, ids)
                for label, kwargs in (("cuda", {}), ("cuda chunk16", {"chunk": 16}), ("cpu", {})):
                    device = "cpu" if label == "cpu" else "cuda:0"
                    got = warden_logprobs(model_dir, ids, device, **kwargs)
                    delta, margin, same = compare(ref, got)
                    ok = delta <= BOUND and (same or margin < BOUND)
                    print(f"  {arch:6s} len {length:3d} {label:12s} max|Δ logprob| top-5 {delta:.4f} "
                          f"(HF top-1 margin {margin:.3f}, same top-1 {same}) {'ok' if ok else 'FAIL'}")
                    if not ok:
                        failures.append(f"{arch} len {length} {label}")
            del model
            torch.cuda.empty_cache()
    if failures:
        print("hf_compare: FAILED: " + ", ".join(failures))
        return 1
    print(f"hf_compare: all comparisons within {BOUND}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
