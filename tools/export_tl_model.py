#!/usr/bin/env python3
"""Write a TransformerLens model as a SoluLens model folder.

Needs Python with TransformerLens installed (and network access for the model hub the first time);
SoluLens itself never downloads anything. Usage:

    python3 tools/export_tl_model.py                      # solu-1l into ./solu-1l
    python3 tools/export_tl_model.py gelu-1l --out gelu-1l

The folder holds:
  config.json        model.cfg.to_dict(), as JSON
  model.safetensors  model.state_dict() with TransformerLens names, float32, weights NOT processed
                     (fold_ln=False, center_writing_weights=False, center_unembed=False)
  tokenizer.json     the Hugging Face tokenizer (plus tokenizer_config.json, which names the BOS token)

Then: java -jar java/target/solulens.jar info --model solu-1l
"""
import argparse
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformer_lens import HookedTransformer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="solu-1l", help="TransformerLens model name (default solu-1l)")
    parser.add_argument("--out", type=pathlib.Path, help="output folder (default: the model name)")
    args = parser.parse_args()
    out = args.out or pathlib.Path(args.model)
    out.mkdir(parents=True, exist_ok=True)

    model = HookedTransformer.from_pretrained(
        args.model, fold_ln=False, center_writing_weights=False, center_unembed=False, device="cpu")

    cfg = model.cfg.to_dict()
    (out / "config.json").write_text(json.dumps(cfg, indent=1, default=str) + "\n")

    # Buffers (attention masks, IGNORE) are kept as TransformerLens has them; SoluLens skips them.
    state = {k: v.detach().to(torch.float32 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"))

    if model.tokenizer is not None:
        model.tokenizer.save_pretrained(str(out))  # writes tokenizer.json and tokenizer_config.json

    print(f"wrote {out}/: {len(state)} tensors, d_vocab {cfg['d_vocab']}")
    print("check: SoluLens's mean loss on 'Hello world!' should equal",
          model("Hello world!", return_type="loss").item())


if __name__ == "__main__":
    main()
