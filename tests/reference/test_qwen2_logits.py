"""warden's CPU forward vs the plain-PyTorch reference on tiny random Qwen2 models."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from harness import Suite, prompt  # noqa: E402

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
# The real R1-Distill-Qwen-1.5B attention shape (1536 wide, 12 heads / 2 KV heads of 128),
# one layer and a narrow MLP / small vocabulary to stay fast.
m = s.model("r1-1.5b-shape", ["--preset", "r1-distill-qwen-1.5b", "--layers", "1", "--intermediate", "512",
                              "--vocab-size", "1024", "--seed", "4", "--dtype", "bf16"])
s.check("R1-Distill-Qwen-1.5B attention shape", m, prompt(19, vocab=1024, seed=12), chunks=(None, 3))
s.finish()
