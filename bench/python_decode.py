"""The anchor for evoprompt_bench_decode: the same Qwen2 decoder and the same
decode loop in plain eager PyTorch, on the model folder the C++ side wrote
(config.json + model.safetensors, read by the small reader below).

One prefill of the prompt (batch 1), its KV cache repeated into `batch` rows,
then the rows decoded together, greedy, for `new` tokens (the last token is
not fed back, as in codegen::lm::generate). f32 on CPU, torch threads = all
cores. Prints one JSON line.

    /usr/bin/python3 bench/python_decode.py MODEL_DIR [--batch 16] [--prompt 64] [--new 32] [--reps 3]
"""
import argparse
import json
import os
import statistics
import struct
import time

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    """name -> tensor: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(os.path.getsize(path) - 8 - n)
        f.readinto(data)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Qwen2:
    def __init__(self, cfg, w):
        self.cfg = cfg
        self.h = cfg["hidden_size"]
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads", self.nh)
        self.d = cfg.get("head_dim", self.h // self.nh)
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.nl = cfg["num_hidden_layers"]
        self.w = {k: v.float() for k, v in w.items()}
        self.embed = self.w["model.embed_tokens.weight"]
        self.lm_head = self.embed if cfg.get("tie_word_embeddings", False) else self.w["lm_head.weight"]
        theta = cfg.get("rope_theta", 10000.0)
        e = torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d
        self.inv_freq = 1.0 / torch.pow(torch.tensor(theta, dtype=torch.float32), e)

    def new_cache(self, batch, capacity):
        shape = (batch, self.nkv, capacity, self.d)
        return {"k": [torch.zeros(shape) for _ in range(self.nl)],
                "v": [torch.zeros(shape) for _ in range(self.nl)], "len": 0}

    def layer(self, i, x, cos, sin, mask, cache, past):
        p = f"model.layers.{i}."
        w = self.w
        b, t, d = x.shape[0], x.shape[1], self.d
        hn = rms_norm(x, w[p + "input_layernorm.weight"], self.eps)
        q = torch.nn.functional.linear(hn, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"])
        k = torch.nn.functional.linear(hn, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"])
        v = torch.nn.functional.linear(hn, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"])
        q = q.view(b, t, self.nh, d).transpose(1, 2)
        k = k.view(b, t, self.nkv, d).transpose(1, 2)
        v = v.view(b, t, self.nkv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        cache["k"][i][:, :, past:past + t] = k
        cache["v"][i][:, :, past:past + t] = v
        k = cache["k"][i][:, :, :past + t]
        v = cache["v"][i][:, :, :past + t]
        # Grouped-query attention: the rep query heads of a KV head become rep * t rows.
        rep = self.nh // self.nkv
        qg = q.reshape(b, self.nkv, rep * t, d)
        scores = torch.matmul(qg, k.transpose(-2, -1)) / (d ** 0.5)
        if mask is not None:
            scores = scores + (mask.repeat(rep, 1) if rep > 1 else mask)
        a = torch.matmul(torch.softmax(scores, -1), v).reshape(b, self.nh, t, d)
        a = a.transpose(1, 2).reshape(b, t, self.nh * d)
        h = x + torch.nn.functional.linear(a, w[p + "self_attn.o_proj.weight"])
        hn2 = rms_norm(h, w[p + "post_attention_layernorm.weight"], self.eps)
        m = torch.nn.functional.silu(torch.nn.functional.linear(hn2, w[p + "mlp.gate_proj.weight"])) * \
            torch.nn.functional.linear(hn2, w[p + "mlp.up_proj.weight"])
        return h + torch.nn.functional.linear(m, w[p + "mlp.down_proj.weight"])

    def forward(self, ids, cache):
        b, t = ids.shape
        past = cache["len"]
        x = torch.nn.functional.embedding(ids, self.embed)
        pos = torch.arange(past, past + t, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos(), emb.sin()
        mask = None
        if t > 1:
            qi = torch.arange(t)[:, None]
            kj = torch.arange(past + t)[None, :]
            mask = torch.zeros(t, past + t).masked_fill(kj > qi + past, float("-inf"))
        for i in range(self.nl):
            x = self.layer(i, x, cos, sin, mask, cache, past)
        cache["len"] = past + t
        return torch.nn.functional.linear(rms_norm(x, self.w["model.norm.weight"], self.eps), self.lm_head)


def generate(model, prompt, batch, new_tokens):
    """Greedy: prefill, cache repeated into `batch` rows, batched decode. Returns [batch, new_tokens]."""
    cache = model.new_cache(1, len(prompt) + new_tokens)
    logits = model.forward(torch.tensor([prompt], dtype=torch.int64), cache)[:, -1]
    for key in ("k", "v"):
        cache[key] = [c.expand(batch, -1, -1, -1).contiguous() for c in cache[key]]
    logits = logits.expand(batch, -1)
    out = []
    for step in range(new_tokens):
        nxt = logits.argmax(-1)
        out.append(nxt)
        if step + 1 == new_tokens:
            break
        logits = model.forward(nxt[:, None], cache)[:, 0]
    return torch.stack(out, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    with open(os.path.join(a.model_dir, "config.json")) as f:
        cfg = json.load(f)
    model = Qwen2(cfg, read_safetensors(os.path.join(a.model_dir, "model.safetensors")))
    load_s = time.perf_counter() - t0
    prompt = [(1000 + 37 * i) % cfg["vocab_size"] for i in range(a.prompt)]
    gen_s, prefill_s = [], []
    with torch.no_grad():
        generate(model, prompt, a.batch, 2)  # warm-up
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model.forward(torch.tensor([prompt], dtype=torch.int64), model.new_cache(1, a.prompt))
            prefill_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            toks = generate(model, prompt, a.batch, a.new)
            gen_s.append(time.perf_counter() - t0)
    gen, pre = statistics.median(gen_s), statistics.median(prefill_s)
    n = a.batch * a.new
    print(json.dumps({
        "impl": "python", "tokens_per_s": n / gen, "decode_only_tokens_per_s": n / max(1e-9, gen - pre),
        "generate_s": gen, "prefill_s": pre, "generate_s_reps": gen_s, "batch": a.batch,
        "prompt_tokens": a.prompt, "new_tokens": a.new, "threads": torch.get_num_threads(), "dtype": "float32",
        "load_s": load_s, "torch": torch.__version__,
        "shape": {"hidden": model.h, "intermediate": cfg["intermediate_size"], "layers": model.nl,
                  "heads": model.nh, "kv_heads": model.nkv, "vocab": cfg["vocab_size"]},
        "tokens0": toks[0].tolist()}))


if __name__ == "__main__":
    main()
