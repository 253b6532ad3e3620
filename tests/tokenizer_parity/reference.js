#!/usr/bin/env node
// Reference token ids from the Hugging Face tokenizers library (Rust, through
// @anush008/tokenizers), for parity_test.sh.
//
//   node reference.js split CORPUS OUTDIR
//       Writes each corpus entry to OUTDIR/NAME (raw bytes). An entry starts
//       after a line "@@@ NAME" and runs to the newline before the next one.
//   node reference.js run TOKENIZER_JSON OUTDIR FILE...
//       For FILE number I (from 0): OUTDIR/I.ids (ids without special
//       tokens, a JSON array), I.special.ids (with them), I.decoded (the text
//       of I.ids decoded), I.skip.decoded (with skip_special_tokens).
//   node reference.js variants OUTDIR QWEN3_JSON
//       Writes the tokenizer.json variants that exercise what the real files
//       do not: OUTDIR/NAME.json.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

// Invalid UTF-8 becomes U+FFFD per maximal subpart (WHATWG); a BOM is kept.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function split(corpus, outdir) {
  const bytes = fs.readFileSync(corpus);
  const marker = Buffer.from('@@@ ');
  const starts = [];
  for (let i = 0; i < bytes.length; i++) {
    if ((i === 0 || bytes[i - 1] === 0x0a) && bytes.slice(i, i + marker.length).equals(marker)) starts.push(i);
  }
  fs.mkdirSync(outdir, { recursive: true });
  starts.forEach((start, k) => {
    const eol = bytes.indexOf(0x0a, start);
    const name = bytes.slice(start + marker.length, eol).toString('utf8').trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`bad entry name '${name}'`);
    let end = k + 1 < starts.length ? starts[k + 1] - 1 : bytes.length;
    if (k + 1 === starts.length && bytes[end - 1] === 0x0a) end -= 1;
    fs.writeFileSync(path.join(outdir, name), bytes.slice(eol + 1, Math.max(eol + 1, end)));
  });
}

async function run(tokenizerJson, outdir, files) {
  const tokenizer = Tokenizer.fromFile(tokenizerJson);
  fs.mkdirSync(outdir, { recursive: true });
  for (let i = 0; i < files.length; i++) {
    const text = decoder.decode(fs.readFileSync(files[i]));
    const plain = (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds();
    const special = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
    fs.writeFileSync(path.join(outdir, `${i}.ids`), JSON.stringify(plain) + '\n');
    fs.writeFileSync(path.join(outdir, `${i}.special.ids`), JSON.stringify(special) + '\n');
    fs.writeFileSync(path.join(outdir, `${i}.decoded`), await tokenizer.decode(plain, false));
    fs.writeFileSync(path.join(outdir, `${i}.skip.decoded`), await tokenizer.decode(special, true));
  }
}

function variants(outdir, qwen3) {
  fs.mkdirSync(outdir, { recursive: true });
  const write = (name, j) => fs.writeFileSync(path.join(outdir, `${name}.json`), JSON.stringify(j));
  const base = JSON.parse(fs.readFileSync(qwen3, 'utf8'));
  const byContent = (j, c) => j.added_tokens.find((t) => t.content === c);

  // GPT-2 style: ByteLevel with its own regex and a prefix space, a template.
  const gpt2 = JSON.parse(JSON.stringify(base));
  gpt2.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  gpt2.post_processor = {
    type: 'Sequence',
    processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<|im_end|>', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: {
          '<|im_start|>': { id: '<|im_start|>', ids: [151644], tokens: ['<|im_start|>'] },
          '<|im_end|>': { id: '<|im_end|>', ids: [151645], tokens: ['<|im_end|>'] },
        },
      },
    ],
  };
  write('qwen3_gpt2_bytelevel', gpt2);

  // Added tokens that strip white space, match whole words only, or are
  // normalized.
  const strip = JSON.parse(JSON.stringify(base));
  byContent(strip, '<think>').lstrip = true;
  byContent(strip, '</think>').rstrip = true;
  byContent(strip, '<tool_call>').single_word = true;
  byContent(strip, '<|fim_prefix|>').normalized = true;
  byContent(strip, '<|im_start|>').lstrip = true;
  byContent(strip, '<|im_start|>').rstrip = true;
  write('qwen3_added_options', strip);
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'split') split(args[0], args[1]);
  else if (mode === 'run') await run(args[0], args[1], args.slice(2));
  else if (mode === 'variants') variants(args[0], args[1]);
  else throw new Error('usage: reference.js split|run|variants ...');
}

main().catch((e) => {
  console.error(`reference.js: ${e.message}`);
  process.exit(1);
});
