"""What the GPU-machine Python scripts share (tests/kernels/hf_compare.py,
bench/engine/gpu_perf.py): the skip convention (exit 77, which ctest and scripts/gpu-day
report as skipped, never as passed), the torch-with-CUDA requirement, and loading a model
folder in transformers in an exact dtype."""
import sys


def skip(tool, why):
    print(f"{tool}: SKIPPED: {why}")
    sys.exit(77)


def require_cuda_torch(tool):
    """Returns the torch module, or exits 77 when PyTorch or its CUDA device is missing."""
    try:
        import torch
    except ImportError:
        skip(tool, "PyTorch is not installed")
    if not torch.cuda.is_available():
        skip(tool, "torch.cuda is not available (no GPU)")
    return torch


def load_causal_lm(model_dir, dtype, **kwargs):
    """transformers' AutoModelForCausalLM on cuda in exactly `dtype`, eval mode."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, **kwargs)
    if next(model.parameters()).dtype != dtype:
        # transformers < 4.56 spells it torch_dtype and takes an unknown `dtype` without
        # complaint (it lands in the config), loading fp32: a comparison would then be
        # against another precision than the one its bound is stated for.
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=dtype, **kwargs)
    got = next(model.parameters()).dtype
    if got != dtype:
        raise RuntimeError(f"transformers loaded {model_dir} as {got}, not {dtype}")
    return model.to("cuda").eval()
