#!/usr/bin/env bash
# `evolve --lm local:DIR` end to end: a tiny random Qwen2 model folder (config.json,
# model.safetensors, a byte-level tokenizer.json) drives one round. Its completions are
# noise, so the check is the plumbing: workers start before the model loads, the
# samples reach the journal with their LM and tokens, and the run finishes.
# Usage: local_lm_e2e.sh EVOPROMPT_BINARY
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/model" <<'PY'
import json, os, struct, sys
import torch
out = sys.argv[1]
os.makedirs(out)
torch.manual_seed(0)
vocab, hidden, ff, layers, heads, kv = 259, 32, 48, 2, 4, 2
d = hidden // heads
tensors = {"model.embed_tokens.weight": torch.randn(vocab, hidden) * 0.5,
           "model.norm.weight": torch.ones(hidden)}
for i in range(layers):
    p = f"model.layers.{i}."
    tensors.update({p + "input_layernorm.weight": torch.ones(hidden),
                    p + "post_attention_layernorm.weight": torch.ones(hidden),
                    p + "self_attn.q_proj.weight": torch.randn(heads * d, hidden) * 0.3,
                    p + "self_attn.q_proj.bias": torch.zeros(heads * d),
                    p + "self_attn.k_proj.weight": torch.randn(kv * d, hidden) * 0.3,
                    p + "self_attn.k_proj.bias": torch.zeros(kv * d),
                    p + "self_attn.v_proj.weight": torch.randn(kv * d, hidden) * 0.3,
                    p + "self_attn.v_proj.bias": torch.zeros(kv * d),
                    p + "self_attn.o_proj.weight": torch.randn(hidden, heads * d) * 0.3,
                    p + "mlp.gate_proj.weight": torch.randn(ff, hidden) * 0.3,
                    p + "mlp.up_proj.weight": torch.randn(ff, hidden) * 0.3,
                    p + "mlp.down_proj.weight": torch.randn(hidden, ff) * 0.3})
header, blobs, offset = {}, [], 0
for name, t in tensors.items():
    data = t.to(torch.float32).contiguous().numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
head = json.dumps(header).encode()
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
json.dump({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": vocab,
           "hidden_size": hidden, "intermediate_size": ff, "num_hidden_layers": layers,
           "num_attention_heads": heads, "num_key_value_heads": kv, "max_position_embeddings": 8192,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
           "bos_token_id": 1, "eos_token_id": 258}, open(os.path.join(out, "config.json"), "w"))
# GPT-2's byte-to-unicode map, two merges, one special token.
printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cp, extra = {}, 0
for b in range(256):
    if b in printable:
        cp[b] = b
    else:
        cp[b] = 256 + extra
        extra += 1
vocab_map = {chr(cp[b]): b for b in range(256)}
vocab_map.update({"ab": 256, "abc": 257})
byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
json.dump({"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": 258, "content": "<eos>", "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": False, "special": True}],
           "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                     "ignore_merges": False, "vocab": vocab_map, "merges": ["a b", "ab c"]}},
          open(os.path.join(out, "tokenizer.json"), "w"))
PY

# lm generate: the same seed gives the same samples; temperature 0 is greedy, so equal samples.
printf 'struct Model : torch::nn::Module {' > "$work/prompt.txt"
"$bin" lm generate "$work/model" --prompt-file "$work/prompt.txt" --n 3 --max-tokens 12 --seed 5 --json > "$work/g1"
"$bin" lm generate "$work/model" --prompt-file "$work/prompt.txt" --n 3 --max-tokens 12 --seed 5 --json > "$work/g2"
cmp -s "$work/g1" "$work/g2" || { echo "lm generate: the same seed gave other samples"; exit 1; }
[ "$(wc -l < "$work/g1")" -eq 3 ] || { echo "lm generate: expected 3 samples"; exit 1; }
"$bin" lm generate "$work/model" --prompt-file "$work/prompt.txt" --n 2 --max-tokens 12 --temperature 0 --json > "$work/greedy"
/usr/bin/python3 -c "import json,sys; a,b=[json.loads(l) for l in open(sys.argv[1])]; assert a['text']==b['text'] and a['completion_tokens']>0, (a,b)" "$work/greedy"
status=0
"$bin" lm generate "$work/model" --prompt-file "$work/missing.txt" 2> "$work/gerr" || status=$?
[ "$status" -eq 2 ] && [ "$(wc -l < "$work/gerr")" -eq 1 ] || { echo "lm generate: a missing prompt file must be one line, exit 2"; exit 1; }

"$bin" evolve --run "$work/run" --lm "local:$work/model" --rounds 1 --prompts 1 --samples 2 --max-tokens 24 \
  --steps 10 --eval-every 5 --workers 1 --threads 1 --json > "$work/events" 2> "$work/err" \
  || { cat "$work/err"; exit 1; }
grep -q '"event":"summary"' "$work/events"
/usr/bin/python3 - "$work/run/journal.sqlite" "local:$work/model" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select lm, verdict, prompt_tokens, completion_tokens from children where kind='sample'").fetchall()
assert len(rows) == 2, rows
for lm, verdict, prompt_tokens, completion_tokens in rows:
    assert lm == sys.argv[2], lm
    assert verdict not in ("pending", "lm_error"), verdict
    assert 0 < completion_tokens <= 24, completion_tokens
assert db.execute("select sum(prompt_tokens) from lm_calls").fetchone()[0] > 1000
assert db.execute("select value from meta where key='status'").fetchone()[0] == "finished"
print("local LM e2e: ok", rows)
PY
