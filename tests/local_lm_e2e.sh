#!/usr/bin/env bash
# `evolve --lm local:DIR` end to end, prompt-tuning included, with a tiny Qwen2 folder
# (config.json, model.safetensors, a byte-level tokenizer.json) built here. Its weights are
# set by hand: attention output is small and the MLP output zero, so the next token depends mostly on the
# last one, and two added tokens (each a whole child body ending in the stop sequence)
# outweigh every other token. Samples are therefore one of two valid children, and
# round 0 leaves one child beside the selected parent for TRAIN.
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
children = [
    "\n  torch::nn::Linear fc{nullptr};\n  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
    "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n};\n/* Metrics:",
    "\n  torch::nn::Linear fc{nullptr};\n  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
    "  torch::Tensor forward(torch::Tensor x) { return fc(torch::tanh(x)); }\n};\n/* Metrics:",
]
base, hidden, ff, layers, heads, kv = 259, 32, 48, 2, 4, 2
vocab = base + len(children)
d = hidden // heads
u = torch.randn(hidden)
u = u / u.norm()
embed = torch.randn(vocab, hidden) * 0.5 + 2.0 * u
for i in range(len(children)):
    embed[base + i] = 8.0 * u  # equal logits: each child half the time
tensors = {"model.embed_tokens.weight": embed, "model.norm.weight": torch.ones(hidden)}
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
                    p + "self_attn.o_proj.weight": torch.randn(hidden, heads * d) * 0.05,  # small: the soft prompt can steer
                    p + "mlp.gate_proj.weight": torch.randn(ff, hidden) * 0.3,
                    p + "mlp.up_proj.weight": torch.randn(ff, hidden) * 0.3,
                    p + "mlp.down_proj.weight": torch.zeros(hidden, ff)})
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
# GPT-2's byte-to-unicode map, two merges, the end token and the two child tokens.
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
added = [{"id": 258, "content": "<eos>", "single_word": False, "lstrip": False, "rstrip": False,
          "normalized": False, "special": True}]
for i, text in enumerate(children):
    added.append({"id": base + i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": False})
byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
json.dump({"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
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

# Two rounds: TRAIN runs between them on the round's children minus the selected parent.
"$bin" evolve --run "$work/run" --lm "local:$work/model" --rounds 2 --prompts 1 --samples 6 --survivors 1 \
  --max-tokens 8 --alpha 1.0 --steps 10 --eval-every 5 --workers 1 --threads 1 --device cpu --tune-epochs 2 \
  --json > "$work/events" 2> "$work/err" || { cat "$work/err"; exit 1; }
grep -q '"event":"summary"' "$work/events"
/usr/bin/python3 - "$work/run" "local:$work/model" <<'PY'
import json, os, sqlite3, sys
run, lm = sys.argv[1:]
db = sqlite3.connect(os.path.join(run, "journal.sqlite"))
rows = db.execute("select round, lm, verdict, completion_tokens from children where kind='sample' order by id").fetchall()
assert len(rows) == 12, rows
for r in rows:
    assert r[1] == lm and r[2] in ("evaluated", "duplicate") and 0 < r[3] <= 8, r
assert sum(1 for r in rows if r[0] == 0 and r[2] == "evaluated") == 2, rows  # both children, once each
tune = json.loads(db.execute("select tune from rounds where round=0").fetchone()[0])
assert tune["tuned"] is True and tune["loss_after"] < tune["loss_before"], tune
assert tune["state"] == "lm_state_round0.safetensors" and os.path.getsize(os.path.join(run, tune["state"])) > 0, tune
assert json.loads(db.execute("select tune from rounds where round=1").fetchone()[0]) == {}  # no TRAIN after the last round
assert db.execute("select value from meta where key='status'").fetchone()[0] == "finished"
print("local LM e2e: ok; round 0 prompt-tuning loss", round(tune["loss_before"], 3), "->", round(tune["loss_after"], 3))
PY

# The no-tune arm with the same seed: round 0 is drawn from the plain LM in
# both arms (no untrained soft prompt), so its samples are the same.
"$bin" evolve --run "$work/plain" --lm "local:$work/model" --mode no-tune --rounds 2 --prompts 1 --samples 6 \
  --survivors 1 --max-tokens 8 --alpha 1.0 --steps 10 --eval-every 5 --workers 1 --threads 1 --device cpu \
  --json > /dev/null 2> "$work/err" || { cat "$work/err"; exit 1; }
/usr/bin/python3 - "$work/run" "$work/plain" <<'PY'
import sqlite3, sys
def round0(run):
    db = sqlite3.connect(run + "/journal.sqlite")
    return db.execute("select name, completion, temperature from children where round=0 order by id").fetchall()
tuned, plain = round0(sys.argv[1]), round0(sys.argv[2])
assert len(tuned) == 6 and tuned == plain, (tuned, plain)
print("round 0 of evoprompting equals round 0 of no-tune: ok")
PY
