"""An independent forward pass of the decoder families warden serves, in plain PyTorch.

Reads a model folder (config.json + *.safetensors, sharded or not) with nothing but
json/struct/torch: no transformers, no safetensors package, and no code shared with
warden. It follows the Hugging Face modeling code's semantics (Qwen2, Llama with
llama3 rope scaling, DeepSeek-V2/V3 MLA attention with yarn rope and the DeepSeek MoE
FFN — or that FFN with standard attention —, Qwen2-MoE) and
computes in float64 by default, so it is a close approximation of the exact result
that warden's fp32 CPU path is compared against.
"""
import json
import math
import os
import struct

import torch

_DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
}


def _e4m3_table():
    """The 256 values of an OCP e4m3fn byte (no infinities; 0x7f/0xff are NaN)."""
    vals = []
    for b in range(256):
        sign = -1.0 if b & 0x80 else 1.0
        e, m = (b >> 3) & 0xF, b & 7
        if e == 0xF and m == 7:
            vals.append(float("nan"))
        elif e == 0:
            vals.append(sign * (m / 8.0) * 2.0 ** -6)
        else:
            vals.append(sign * (1 + m / 8.0) * 2.0 ** (e - 7))
    return torch.tensor(vals, dtype=torch.float64)


_E4M3 = _e4m3_table()


def read_safetensors(path):
    """Returns {name: tensor} from one .safetensors file (header parsed by hand)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = bytearray(data[base + begin : base + end])
        if info["dtype"] == "F8_E4M3":  # torch 1.13 has no float8: decode by table
            codes = torch.frombuffer(buf, dtype=torch.uint8).long() if buf else torch.empty(0, dtype=torch.long)
            out[name] = _E4M3[codes].reshape(info["shape"])
            continue
        dtype = _DTYPES[info["dtype"]]
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def read_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = sorted(p for p in os.listdir(model_dir) if p.endswith(".safetensors"))
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(model_dir, name)))
    return weights


class Reference:
    def __init__(self, model_dir, dtype=torch.float64):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.cfg = json.load(f)
        self.dtype = dtype
        raw = read_weights(model_dir)
        quant = self.cfg.get("quantization_config") or {}
        if quant.get("quant_method") == "fp8":
            # DeepSeek-V3 block fp8: w = q * weight_scale_inv[i // br, j // bc].
            br, bc = quant.get("weight_block_size", [128, 128])
            for name in [n for n in raw if n.endswith(".weight_scale_inv")]:
                scale = raw.pop(name).to(torch.float64)
                wname = name[: -len("_scale_inv")]
                q = raw[wname].to(torch.float64)
                full = scale.repeat_interleave(br, 0)[: q.shape[0]].repeat_interleave(bc, 1)[:, : q.shape[1]]
                raw[wname] = q * full
        self.w = {k: v.to(dtype) for k, v in raw.items()}
        c = self.cfg
        self.arch = c["architectures"][0]
        self.hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.layers = c["num_hidden_layers"]
        self.mla = c.get("kv_lora_rank") is not None
        self.rope_dim = c["qk_rope_head_dim"] if self.mla else self.head_dim

    # ---- pieces -------------------------------------------------------------------
    @staticmethod
    def yarn_get_mscale(scale, mscale):
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    def rope_mscale(self):
        rs = self.cfg.get("rope_scaling") or {}
        if rs.get("type", rs.get("rope_type")) != "yarn":
            return 1.0
        f = rs["factor"]
        return self.yarn_get_mscale(f, rs.get("mscale", 1)) / self.yarn_get_mscale(f, rs.get("mscale_all_dim", 0))

    def inv_freq(self):
        c = self.cfg
        d = self.rope_dim
        base = float(c.get("rope_theta", 10000.0))
        inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        rs = c.get("rope_scaling") or {}
        if rs.get("type", rs.get("rope_type")) == "yarn":
            # DeepSeek-V2 modeling code: DeepseekV2YarnRotaryEmbedding.
            f, orig = rs["factor"], rs["original_max_position_embeddings"]

            def corr_dim(rot):
                return (d * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

            low = max(math.floor(corr_dim(rs.get("beta_fast", 32))), 0)
            high = min(math.ceil(corr_dim(rs.get("beta_slow", 1))), d - 1)
            if low == high:
                high += 0.001
            ramp = torch.clamp((torch.arange(d // 2, dtype=torch.float64) - low) / (high - low), 0, 1)
            mask = 1.0 - ramp
            return (inv / f) * (1 - mask) + inv * mask
        if rs.get("rope_type", rs.get("type")) == "llama3":
            factor = rs["factor"]
            low, high = rs["low_freq_factor"], rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wl, high_wl = old / low, old / high
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > low_wl, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = (wavelen >= high_wl) & (wavelen <= low_wl)
            inv = torch.where(medium, smoothed, scaled)
        return inv

    def rms(self, x, weight):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * weight

    def lin(self, x, name, bias=False):
        y = x @ self.w[name + ".weight"].T
        if bias and (name + ".bias") in self.w:
            y = y + self.w[name + ".bias"]
        return y

    def mlp(self, x, prefix):
        g = self.lin(x, prefix + ".gate_proj")
        u = self.lin(x, prefix + ".up_proj")
        return self.lin(torch.nn.functional.silu(g) * u, prefix + ".down_proj")

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def attention(self, x, p, cos, sin):
        T = x.shape[0]
        bias = self.arch in ("Qwen2ForCausalLM", "Qwen2MoeForCausalLM") or self.cfg.get("attention_bias", False)
        q = self.lin(x, p + "self_attn.q_proj", bias).view(T, self.heads, self.head_dim).transpose(0, 1)
        k = self.lin(x, p + "self_attn.k_proj", bias).view(T, self.kv_heads, self.head_dim).transpose(0, 1)
        v = self.lin(x, p + "self_attn.v_proj", bias).view(T, self.kv_heads, self.head_dim).transpose(0, 1)
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=0)
        v = v.repeat_interleave(groups, dim=0)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        scores = scores.masked_fill(mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        out = out.transpose(0, 1).reshape(T, self.heads * self.head_dim)
        o_bias = self.cfg.get("attention_bias", False) and self.arch not in ("Qwen2ForCausalLM", "Qwen2MoeForCausalLM")
        return self.lin(out, p + "self_attn.o_proj", o_bias)

    def attention_mla(self, x, p, cos, sin):
        """HF DeepseekV2Attention (multi-head latent attention), no cache."""
        c = self.cfg
        T, H = x.shape[0], self.heads
        nope, rope, vd, kvr = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"], c["kv_lora_rank"]
        a = p + "self_attn."
        if c.get("q_lora_rank"):
            qa = self.lin(x, a + "q_a_proj")
            q = self.lin(self.rms_eps(qa, self.w[a + "q_a_layernorm.weight"], 1e-6), a + "q_b_proj")
        else:
            q = self.lin(x, a + "q_proj")
        q = q.view(T, H, nope + rope).transpose(0, 1)
        q_nope, q_pe = torch.split(q, [nope, rope], dim=-1)
        ckv = self.lin(x, a + "kv_a_proj_with_mqa")
        latent, k_pe = torch.split(ckv, [kvr, rope], dim=-1)
        k_pe = k_pe.view(T, 1, rope).transpose(0, 1)
        kv = self.lin(self.rms_eps(latent, self.w[a + "kv_a_layernorm.weight"], 1e-6), a + "kv_b_proj")
        kv = kv.view(T, H, nope + vd).transpose(0, 1)
        k_nope, v = torch.split(kv, [nope, vd], dim=-1)

        def deinterleave(t):
            h, s, d = t.shape
            return t.reshape(h, s, d // 2, 2).transpose(3, 2).reshape(h, s, d)

        q_pe, k_pe = deinterleave(q_pe), deinterleave(k_pe)
        q_pe = q_pe * cos + self.rotate_half(q_pe) * sin
        k_pe = k_pe * cos + self.rotate_half(k_pe) * sin
        qs = torch.cat([q_nope, q_pe], dim=-1)
        ks = torch.cat([k_nope, k_pe.expand(H, T, rope)], dim=-1)
        scale = (nope + rope) ** -0.5
        rs = c.get("rope_scaling") or {}
        if rs and rs.get("mscale_all_dim"):
            m = self.yarn_get_mscale(rs["factor"], rs["mscale_all_dim"])
            scale = scale * m * m
        scores = qs @ ks.transpose(-1, -2) * scale
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        out = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v
        return self.lin(out.transpose(0, 1).reshape(T, H * vd), a + "o_proj")

    def rms_eps(self, x, weight, eps):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    def is_moe_layer(self, l):
        c = self.cfg
        if self.arch in ("DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM"):
            return (c.get("n_routed_experts") is not None and l >= c.get("first_k_dense_replace", 0)
                    and l % c.get("moe_layer_freq", 1) == 0)
        if self.arch == "Qwen2MoeForCausalLM":
            return (l not in (c.get("mlp_only_layers") or []) and c.get("num_experts", 0) > 0
                    and (l + 1) % c.get("decoder_sparse_step", 1) == 0)
        return False

    def deepseek_moe(self, x, p):
        c = self.cfg
        logits = x @ self.w[p + "mlp.gate.weight"].T
        if c.get("scoring_func", "softmax") == "softmax":
            scores = logits.softmax(dim=-1)
        else:
            scores = logits.sigmoid()
        k = c["num_experts_per_tok"]
        method = c.get("topk_method", "greedy")
        T, E = scores.shape
        if method in ("greedy", "gready"):
            topw, topi = torch.topk(scores, k=k, dim=-1)
        else:
            G = c["n_group"]
            if method == "noaux_tc":  # DeepSeek-V3
                choice = scores + self.w[p + "mlp.gate.e_score_correction_bias"]
                group_scores = choice.view(T, G, -1).topk(2, dim=-1)[0].sum(dim=-1)
            else:  # group_limited_greedy, DeepSeek-V2
                choice = scores
                group_scores = choice.view(T, G, -1).max(dim=-1).values
            group_idx = torch.topk(group_scores, k=c["topk_group"], dim=-1)[1]
            group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
            score_mask = group_mask.unsqueeze(-1).expand(T, G, E // G).reshape(T, E)
            fill = float("-inf") if method == "noaux_tc" else 0.0
            masked = choice.masked_fill(~score_mask.bool(), fill)
            if method == "noaux_tc":
                topi = torch.topk(masked, k=k, dim=-1)[1]
                topw = scores.gather(1, topi)
            else:
                topw, topi = torch.topk(masked, k=k, dim=-1)
        v3 = self.arch == "DeepseekV3ForCausalLM"
        if k > 1 and c.get("norm_topk_prob", False):
            topw = topw / (topw.sum(dim=-1, keepdim=True) + 1e-20)
            if v3:
                topw = topw * c.get("routed_scaling_factor", 1.0)
        else:
            topw = topw * c.get("routed_scaling_factor", 1.0)
        out = torch.zeros_like(x)
        for t in range(x.shape[0]):
            for j in range(k):
                e = int(topi[t, j])
                out[t] += topw[t, j] * self.mlp(x[t : t + 1], p + f"mlp.experts.{e}")[0]
        if c.get("n_shared_experts"):
            out = out + self.mlp(x, p + "mlp.shared_experts")
        return out

    def qwen2_moe(self, x, p):
        c = self.cfg
        probs = (x @ self.w[p + "mlp.gate.weight"].T).softmax(dim=-1)
        topw, topi = torch.topk(probs, k=c["num_experts_per_tok"], dim=-1)
        if c.get("norm_topk_prob", False):
            topw = topw / topw.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for t in range(x.shape[0]):
            for j in range(topi.shape[1]):
                e = int(topi[t, j])
                out[t] += topw[t, j] * self.mlp(x[t : t + 1], p + f"mlp.experts.{e}")[0]
        if c.get("shared_expert_intermediate_size", 0):
            gate = torch.sigmoid(x @ self.w[p + "mlp.shared_expert_gate.weight"].T)
            out = out + gate * self.mlp(x, p + "mlp.shared_expert")
        return out

    # ---- the model ----------------------------------------------------------------
    def forward(self, ids):
        """Logits [len(ids), vocab] for a whole sequence (causal, no cache)."""
        c = self.cfg
        x = self.w["model.embed_tokens.weight"][torch.tensor(ids)]
        pos = torch.arange(len(ids), dtype=torch.float64)
        ang = pos[:, None] * self.inv_freq()[None, :]
        ms = self.rope_mscale()
        cos = (torch.cat([ang.cos(), ang.cos()], dim=-1) * ms).to(self.dtype)
        sin = (torch.cat([ang.sin(), ang.sin()], dim=-1) * ms).to(self.dtype)
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            x = x + (self.attention_mla(h, p, cos, sin) if self.mla else self.attention(h, p, cos, sin))
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            if not self.is_moe_layer(l):
                x = x + self.mlp(h, p + "mlp")
            elif self.arch == "Qwen2MoeForCausalLM":
                x = x + self.qwen2_moe(h, p)
            else:
                x = x + self.deepseek_moe(h, p)
        x = self.rms(x, self.w["model.norm.weight"])
        head = self.w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else self.w["lm_head.weight"]
        return x @ head.T
