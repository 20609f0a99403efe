#!/usr/bin/env python3
"""Writes the bundled demo model's word-level tokenizer.json from words.txt (standard library only).

    python3 tools/make_demo_tokenizer.py

Ids: 0 <|BOS|>, 1 <unk>, then punctuation, the digits, and the words of words.txt in file order.
Text is lower-cased and split on whitespace and punctuation ("Whitespace" pre-tokenizer), so that
"ice" and "Ice" are both one token, as the repetition prompts of the seed paper need.
"""
import json
import pathlib

DEMO = pathlib.Path(__file__).resolve().parent.parent / "java/src/main/resources/org/solulens/demo"
SPECIAL = ["<|BOS|>", "<unk>"]
PUNCTUATION = list(".,!?;:'\"()-") + [str(d) for d in range(10)]


def main():
    words = (DEMO / "words.txt").read_text().split()
    tokens = SPECIAL + PUNCTUATION + words
    assert len(set(tokens)) == len(tokens), "duplicate token"
    added = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, t in enumerate(SPECIAL)
    ]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {t: i for i, t in enumerate(tokens)}, "unk_token": "<unk>"},
    }
    (DEMO / "tokenizer.json").write_text(json.dumps(tokenizer, indent=1) + "\n")
    print(f"wrote {DEMO / 'tokenizer.json'}: {len(tokens)} tokens")


if __name__ == "__main__":
    main()
