"""warden's CPU forward vs the plain-PyTorch reference on tiny random MoE models:
DeepSeek-MoE FFN (standard attention, not MLA) and Qwen2-MoE."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from harness import Suite, prompt  # noqa: E402

s = Suite("moe")
ds = ["--arch", "deepseek-moe", "--vocab-size", "512", "--seed", "5", "--dtype", "f32"]
m = s.model("ds-softmax", ds)
s.check("deepseek softmax top-2, 2 shared, first dense", m, prompt(33, seed=6), chunks=(None, 4))
m = s.model("ds-sigmoid-norm", ds, config_edit=lambda c: c.update(
    scoring_func="sigmoid", norm_topk_prob=True, routed_scaling_factor=2.5, num_experts_per_tok=3,
    first_k_dense_replace=0))
s.check("deepseek sigmoid top-3 normalised (V2: no scale)", m, prompt(21, seed=7))
m = s.model("ds-scaled", ds, config_edit=lambda c: c.update(routed_scaling_factor=2.5, n_shared_experts=None,
                                                              moe_layer_freq=2, first_k_dense_replace=0))
s.check("deepseek scaled, no shared, every 2nd layer", m, prompt(21, seed=8))
m = s.model("ds-v3", ds, config_edit=lambda c: c.update(
    architectures=["DeepseekV3ForCausalLM"], model_type="deepseek_v3", scoring_func="sigmoid",
    norm_topk_prob=True, routed_scaling_factor=2.5))
s.check("deepseek-v3 routing (normalise then scale)", m, prompt(18, seed=9))
m = s.model("qwen2-moe", ["--arch", "qwen2-moe", "--vocab-size", "512", "--seed", "6", "--dtype", "f32"])
s.check("qwen2-moe shared expert gate", m, prompt(25, seed=10), chunks=(None, 6))
m = s.model("qwen2-moe-norm", ["--arch", "qwen2-moe", "--vocab-size", "512", "--seed", "7", "--dtype", "f32"],
            config_edit=lambda c: c.update(norm_topk_prob=True, mlp_only_layers=[0]))
s.check("qwen2-moe normalised, mlp_only_layers", m, prompt(19, seed=11))
s.finish()
