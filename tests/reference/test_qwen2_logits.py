"""warden's CPU forward vs the plain-PyTorch reference on tiny random Qwen2 models."""
from harness import Suite, prompt

s = Suite("qwen2")
base = ["--arch", "qwen2", "--vocab-size", "512", "--seed", "1"]
m = s.model("qwen2-f32", base + ["--dtype", "f32"])
# 37 tokens span three 16-token KV blocks; chunks of 5 and 1 exercise cached-KV paths.
s.check("qwen2 f32", m, prompt(37), chunks=(None, 5, 1))
s.check("qwen2 f32 single token", m, [7])
m = s.model("qwen2-bf16", base + ["--dtype", "bf16", "--seed", "2"])
s.check("qwen2 bf16 weights", m, prompt(20, seed=1))
m = s.model("qwen2-f16-tied-sharded", base + ["--dtype", "f16", "--tie", "--heads", "8", "--kv-heads", "1",
                                              "--head-dim", "8", "--layers", "3", "--shard-kb", "80"])
s.check("qwen2 f16 tied, MQA, 4 shards", m, prompt(24, seed=2), chunks=(None, 7))
s.finish()
