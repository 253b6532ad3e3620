#!/usr/bin/env node
// Writes llama2_synthetic.json: a small tokenizer.json in the layout of
// Llama-2 / CodeLlama (SentencePiece BPE converted by the tokenizers library:
// Prepend+Replace normalizer, byte fallback, <s> template, the
// Replace/ByteFallback/Fuse/Strip decoder). No npm package ships one, so its
// merges are learned here from a few repository files, greedily by pair
// count. Run once; the output is committed.
//   node make_llama2_synthetic.js OUT.json TRAINING_FILE...
'use strict';
const fs = require('fs');

const [out, ...files] = process.argv.slice(2);
const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
const SP = '\u2581';

// Words as SentencePiece sees them: "▁" marks each space, and starts a word.
const words = new Map();
for (const w of (SP + text.replace(/ /g, SP)).split(new RegExp(`(?=${SP})|\\n`))) {
  if (w.length > 0) words.set(w, (words.get(w) || 0) + 1);
}

const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
let next = 3 + 256;

// Base characters: those seen at least twice, below the CJK blocks (the rest
// go through byte fallback).
const charCount = new Map();
for (const [w, n] of words) for (const c of Array.from(w)) charCount.set(c, (charCount.get(c) || 0) + n);
const chars = [...charCount].filter(([c, n]) => n >= 2 && c.codePointAt(0) < 0x2e80)
  .sort((a, b) => b[1] - a[1] || a[0].codePointAt(0) - b[0].codePointAt(0)).map(([c]) => c);
for (const c of chars) vocab[c] = next++;

let split = [...words].map(([w, n]) => [Array.from(w).filter((c) => c in vocab), n]);
const merges = [];
for (let m = 0; m < 500; m++) {
  const pairs = new Map();
  for (const [symbols, n] of split) {
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i] + ' ' + symbols[i + 1];
      pairs.set(key, (pairs.get(key) || 0) + n);
    }
  }
  let best = null;
  for (const [k, n] of pairs) if (!best || n > best[1] || (n === best[1] && k < best[0])) best = [k, n];
  if (!best || best[1] < 2) break;
  const [a, b] = best[0].split(' ');
  merges.push(best[0]);
  if (!((a + b) in vocab)) vocab[a + b] = next++;
  split = split.map(([symbols, n]) => {
    const merged = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) { merged.push(a + b); i++; } else merged.push(symbols[i]);
    }
    return [merged, n];
  });
}

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
  normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SP }, { type: 'Replace', pattern: { String: ' ' }, content: SP }] },
  pre_tokenizer: null,
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  },
  decoder: {
    type: 'Sequence',
    decoders: [{ type: 'Replace', pattern: { String: SP }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
  },
  model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
};
fs.writeFileSync(out, JSON.stringify(tokenizer, null, 1) + '\n');
console.log(`${out}: ${Object.keys(vocab).length} tokens, ${merges.length} merges`);
