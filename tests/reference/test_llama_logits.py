"""warden's CPU forward vs the plain-PyTorch reference on tiny random Llama models,
including Llama-3 rope scaling (R1-Distill-Llama)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from harness import Suite, prompt  # noqa: E402


def llama3_small_context(cfg):
    # An original context of 64 puts the scaling bands inside head_dim 16's frequencies,
    # so scaled, smoothed and untouched frequencies all occur within a 90-token prompt.
    cfg["rope_theta"] = 10000.0
    cfg["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                           "high_freq_factor": 4.0, "original_max_position_embeddings": 64}


s = Suite("llama")
base = ["--arch", "llama", "--vocab-size", "512", "--seed", "3", "--dtype", "f32"]
m = s.model("llama-default", base)
s.check("llama (rope_theta 5e5, llama3 scaling 8192)", m, prompt(40, seed=3), chunks=(None, 16))
m = s.model("llama-scaled", base, config_edit=llama3_small_context)
s.check("llama llama3 scaling, all bands", m, prompt(90, seed=4), chunks=(None, 13))
m = s.model("llama-noscale", base, config_edit=lambda c: c.update(rope_scaling=None, rope_theta=10000.0))
s.check("llama no rope scaling", m, prompt(30, seed=5))
s.finish()
