#!/usr/bin/env python3
"""The tokenizer bench corpus: this repository's docs (English prose), C++ sources (code)
and the multilingual test corpus (Chinese, Japanese, Korean, Spanish, Russian, Arabic,
emoji, numbers, whitespace), one document per file, written as a JSON array of strings."""
import glob, json, os, sys

root, out = sys.argv[1], sys.argv[2]
docs = []
for pattern in ("README.md", "docs/**/*.md", "src/**/*.cpp", "src/**/*.hpp", "include/**/*.hpp"):
    for f in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
        with open(f, encoding="utf-8", errors="replace") as fh:
            docs.append(fh.read())
lines = json.load(open(os.path.join(root, "tests/engine_ref/tokenizer_corpus.json"), encoding="utf-8"))
multilingual = "\n".join(lines)
# Weigh the multilingual text to about a quarter of the corpus.
code_bytes = sum(len(d.encode()) for d in docs)
copies = max(1, code_bytes // 3 // max(1, len(multilingual.encode())))
docs += [multilingual] * copies
json.dump(docs, open(out, "w", encoding="utf-8"), ensure_ascii=False)
print(f"{len(docs)} documents, {sum(len(d.encode()) for d in docs)} bytes", file=sys.stderr)
