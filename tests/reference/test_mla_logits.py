"""warden's CPU forward vs the plain-PyTorch reference on tiny random DeepSeek-V2/V3
models: multi-head latent attention (MLA), yarn rope scaling, group-limited routing."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from harness import Suite, prompt  # noqa: E402


def small_yarn(cfg):
    # Correction range [0, 1] over the 8-wide rope dims: frequency 0 kept, the rest
    # interpolated; mscale != mscale_all_dim makes the cos/sin scale differ from 1.
    # (The V2-Lite defaults above give range [1, 3], so dim 2 is on the ramp.)
    cfg["rope_scaling"] = {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32,
                           "beta_fast": 4, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.5}


s = Suite("mla")
base = ["--arch", "deepseek-v2", "--vocab-size", "512", "--seed", "8", "--dtype", "f32"]
m = s.model("v2-lite-shape", base)
s.check("MLA, no q LoRA, yarn as V2-Lite (factor 40)", m, prompt(35, seed=13), chunks=(None, 6, 1))
m = s.model("v2-q-lora", base, config_edit=lambda c: c.update(q_lora_rank=24))
s.check("MLA with q LoRA", m, prompt(20, seed=14), chunks=(None, 7))
m = s.model("v2-small-yarn", base, config_edit=small_yarn)
s.check("MLA, yarn with cos/sin mscale", m, prompt(70, seed=15), chunks=(None, 9))
m = s.model("v2-no-scaling", base, config_edit=lambda c: c.update(rope_scaling=None))
s.check("MLA without rope scaling", m, prompt(17, seed=16))
v3 = ["--arch", "deepseek-v3", "--vocab-size", "512", "--seed", "9", "--dtype", "f32"]
m = s.model("v3", v3)
s.check("DeepSeek-V3 layout: MLA + q LoRA, noaux_tc routing", m, prompt(29, seed=17), chunks=(None, 5))
m = s.model("v2-group-limited", base, config_edit=lambda c: c.update(
    topk_method="group_limited_greedy", n_group=4, topk_group=2, num_experts_per_tok=3))
s.check("DeepSeek-V2 group_limited_greedy routing", m, prompt(23, seed=18))
# DeepSeek-V3/R1 checkpoints store Linear weights as block-scaled fp8 (e4m3 + weight_scale_inv);
# 32 × 16 blocks leave partial blocks at the edges of the 40-row kv_a projection.
m = s.model("v3-fp8", v3[:-1] + ["f8"], config_edit=lambda c: c["quantization_config"].update(
    weight_block_size=[32, 16]))
s.check("DeepSeek-V3 layout, fp8 e4m3 block-scaled weights", m, prompt(21, seed=19), chunks=(None, 4))
s.finish()
