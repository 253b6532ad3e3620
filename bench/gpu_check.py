"""The Python side of scripts/gpu-check.sh, on the GPU machine's python3
(PyTorch with CUDA, transformers). Each command prints one JSON line.

  gpu_check.py decode MODEL_DIR [--batch 16 --prompt 64 --new 32 --reps 3]
      transformers' generate() on the folder evoprompt_bench_decode wrote,
      bf16 on cuda, greedy, the same prompt ids (1000 + 37 i) % vocab.
  gpu_check.py parity-models OUT_DIR
      random f32 Qwen2ForCausalLM and LlamaForCausalLM folders (save_pretrained),
      each with ids.txt and the transformers logits of those ids (ref.f32).
  gpu_check.py parity-diff DIR CPP.f32
      the largest absolute difference between ref.f32 and evoprompt's logits.
  gpu_check.py table RESULTS.jsonl
      the check's one table, from the JSON lines the script gathered.
"""
import argparse
import json
import os
import statistics
import sys
import time

PARITY_IDS = [3, 17, 250, 5, 99, 128, 7, 64, 201, 33, 2, 180, 77, 150, 9, 240, 11, 42, 199, 88, 123, 6, 231, 57]


def load_causal_lm(path, dtype):
    import transformers
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except TypeError:  # transformers before `dtype`
        return transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=dtype)


def cmd_decode(a):
    import torch
    model = load_causal_lm(a.model, torch.bfloat16).cuda().eval()
    vocab = model.config.vocab_size
    prompt = [(1000 + 37 * i) % vocab for i in range(a.prompt)]
    ids = torch.tensor([prompt] * a.batch, device="cuda")
    mask = torch.ones_like(ids)
    kw = dict(attention_mask=mask, max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False,
              use_cache=True, pad_token_id=0)
    with torch.no_grad():
        model.generate(ids, **dict(kw, max_new_tokens=2, min_new_tokens=2))  # warm-up
        times, out = [], None
        for _ in range(a.reps):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = model.generate(ids, **kw)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    gen = statistics.median(times)
    print(json.dumps({"impl": "transformers", "tokens_per_s": a.batch * a.new / gen, "generate_s": gen,
                      "tokens0": out[0, a.prompt:].tolist(), "batch": a.batch, "new_tokens": a.new}))


def cmd_parity_models(a):
    import torch
    import transformers
    shapes = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=256, max_position_embeddings=128, rope_theta=10000.0,
                  rms_norm_eps=1e-6, tie_word_embeddings=False)
    made = {}
    for name, cfg_cls, model_cls in (("qwen2", transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
                                     ("llama", transformers.LlamaConfig, transformers.LlamaForCausalLM)):
        torch.manual_seed(0)
        model = model_cls(cfg_cls(**shapes)).float().eval()
        with torch.no_grad():  # norms away from 1, so that their weights matter
            for n, p in model.named_parameters():
                if "norm" in n:
                    p.uniform_(0.5, 1.5)
            logits = model(torch.tensor([PARITY_IDS])).logits[0].float().contiguous()
        out = os.path.join(a.out, name)
        try:
            model.save_pretrained(out, safe_serialization=True)
        except TypeError:  # transformers that always write safetensors
            model.save_pretrained(out)
        with open(os.path.join(out, "ids.txt"), "w") as f:
            f.write(",".join(map(str, PARITY_IDS)))
        with open(os.path.join(out, "ref.f32"), "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        made[name] = out
    print(json.dumps({"models": made, "tokens": len(PARITY_IDS), "vocab": shapes["vocab_size"]}))


def cmd_parity_diff(a):
    import numpy as np
    ref = np.fromfile(os.path.join(a.dir, "ref.f32"), dtype="<f4")
    got = np.fromfile(a.cpp, dtype="<f4")
    if ref.shape != got.shape:
        sys.exit(f"parity-diff: {a.cpp} holds {got.size} floats, the reference {ref.size}")
    print(json.dumps({"model": os.path.basename(a.dir.rstrip("/")), "max_abs_diff": float(np.abs(ref - got).max()),
                      "max_abs_logit": float(np.abs(ref).max())}))


def cmd_table(a):
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    by = {}
    for r in rows:
        by.setdefault(r.get("check"), []).append(r)

    def one(check, key, fmt="{:.2f}"):
        r = by.get(check)
        return fmt.format(r[-1][key]) if r and key in r[-1] else "n/a"

    lines = ["| measure | value | anchor | ratio / goal |", "|---|---:|---:|---:|"]
    eager, graph, py = (by.get(k, [{}])[-1] for k in ("cnn_eager", "cnn_graph", "cnn_python"))
    if graph.get("wall_s"):
        lines.append(f"| CNN seed, 8000 steps, s per child, CUDA graph ({graph.get('step_path')}) | {graph['wall_s']:.2f} | "
                     f"eager {eager.get('wall_s', float('nan')):.2f} | {eager.get('wall_s', float('nan')) / graph['wall_s']:.2f}x; "
                     f"goal <= 2 s: {'met' if graph['wall_s'] <= 2 else 'not met'} |")
    if py.get("wall_s") and graph.get("wall_s"):
        lines.append(f"| same protocol, eager Python PyTorch, s per child | {py['wall_s']:.2f} | evoprompt {graph['wall_s']:.2f} | "
                     f"{py['wall_s'] / graph['wall_s']:.2f}x |")
    for r in by.get("children_per_min", []):
        lines.append(f"| children per minute, {r['workers_per_gpu']} workers per GPU ({r['children']} children, "
                     f"{r['steps']} steps) | {r['per_min']:.1f} | | |")
    dc, dp = by.get("decode_cpp", [{}])[-1], by.get("decode_transformers", [{}])[-1]
    if dc.get("tokens_per_s") and dp.get("tokens_per_s"):
        lines.append(f"| embedded LM decode, bf16, batch 16, tok/s | {dc['tokens_per_s']:.0f} | transformers "
                     f"{dp['tokens_per_s']:.0f} | {dc['tokens_per_s'] / dp['tokens_per_s']:.2f}x |")
    for r in by.get("parity", []):
        lines.append(f"| logit parity f32, {r['model']} ({r['device']}), max abs diff | {r['max_abs_diff']:.2e} | "
                     f"| goal <= 1e-3: {'met' if r['max_abs_diff'] <= 1e-3 else 'not met'} |")
    cg, cc = by.get("clrs_gpu", [{}])[-1], by.get("clrs_cpu", [{}])[-1]
    if cg.get("steps_per_s") and cc.get("steps_per_s"):
        lines.append(f"| CLRS BFS, batch 32, steps/s, GPU | {cg['steps_per_s']:.1f} | CPU ({cc['threads']} threads) "
                     f"{cc['steps_per_s']:.1f} | {cg['steps_per_s'] / cc['steps_per_s']:.2f}x |")
    for r in by.get("tests", []):
        lines.append(f"| tests with CUDA: {r['passed']} of {r['total']} passed | | | {r.get('failed_names', '')} |")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode")
    d.add_argument("model")
    d.add_argument("--batch", type=int, default=16)
    d.add_argument("--prompt", type=int, default=64)
    d.add_argument("--new", type=int, default=32)
    d.add_argument("--reps", type=int, default=3)
    p = sub.add_parser("parity-models")
    p.add_argument("out")
    q = sub.add_parser("parity-diff")
    q.add_argument("dir")
    q.add_argument("cpp")
    t = sub.add_parser("table")
    t.add_argument("results")
    a = ap.parse_args()
    {"decode": cmd_decode, "parity-models": cmd_parity_models, "parity-diff": cmd_parity_diff, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    main()
