"""Interoperability of `hf-model` (AwesomegradModels) with Hugging Face transformers, tokenizers and PEFT.

Run by `make hf-interop` in the reference venv (Benchmarks/reference/.venv):

    python Benchmarks/reference/hf_interop.py --hf-model PATH/TO/hf-model [--only NAME ...]

Each check prints `PASS name: detail` or `FAIL name: why`; the script exits with status 1 if any failed.

- Saved here, loaded there: `hf-model finetune` (full and LoRA) writes a folder; transformers'
  `from_pretrained` loads it with no missing, unexpected or mismatched keys and gives the logits
  `hf-model logits` gives, to 1e-4; PEFT's `PeftModel.from_pretrained` loads the LoRA adapters onto
  the base model and gives the merged model's logits; `AutoTokenizer` reads the saved tokenizer.
- Made there, run here, on models and tokenizers that are not the test fixtures: other seeds,
  vocabulary sizes, rope_theta under `rope_parameters` (transformers 5) and at the top level
  (transformers 4), tied Llama embeddings, one key/value head: logits, greedy continuations and the
  loss with its gradient norms agree with transformers; a tokenizer trained here encodes and decodes
  random Unicode text exactly as `tokenizers` does.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import traceback
import warnings

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "AwesomegradModelsTests", "Fixtures", "hf")
TOKENIZER = os.path.join(FIXTURES, "tokenizer", "tokenizer.json")

CHECKS = []


class CheckFailed(Exception):
    pass


def check(function):
    CHECKS.append((function.__name__.replace("_", "-"), function))
    return function


class Context:
    def __init__(self, hf_model, scratch):
        self.hf_model = hf_model
        self.scratch = scratch

    def path(self, *names):
        return os.path.join(self.scratch, *names)

    def run(self, *args):
        """Runs hf-model with --json; returns the parsed object."""
        result = subprocess.run([self.hf_model, *args, "--json"], capture_output=True, text=True)
        if result.returncode != 0:
            raise CheckFailed(f"hf-model {' '.join(args[:1])} failed: {result.stderr.strip()}")
        return json.loads(result.stdout)


def load_strictly(directory):
    """transformers' from_pretrained in float32, failing on any missing, unexpected or mismatched key."""
    model, info = transformers.AutoModelForCausalLM.from_pretrained(
        directory, dtype=torch.float32, output_loading_info=True, attn_implementation="eager")
    problems = {k: v for k, v in info.items() if v}
    if problems:
        raise CheckFailed(f"from_pretrained({os.path.basename(directory)}) reported {problems}")
    return model.eval()


def torch_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def max_difference(ours, theirs):
    import numpy as np
    return float(np.max(np.abs(np.asarray(ours, dtype=np.float32) - np.asarray(theirs, dtype=np.float32))))


PROMPT = [40, 468, 79, 12, 419, 326, 1, 361, 72, 268, 5, 99]


def training_text(context):
    path = context.path("train.txt")
    if not os.path.exists(path):
        expected = json.load(open(os.path.join(FIXTURES, "expected.json")))
        with open(path, "w") as f:
            f.write("".join(t["text"] for t in expected["tokenizer"]["texts"]))
    return path


def finetune(context, family, lora):
    out = context.path(f"finetuned-{family}-{'lora' if lora else 'full'}")
    args = ["finetune", "--model", os.path.join(FIXTURES, family), "--tokenizer", TOKENIZER,
            "--text-file", training_text(context), "--steps", "4", "--save", out, "--learning-rate", "0.01"]
    if lora:
        args += ["--lora-rank", "4"]
    context.run(*args)
    return out


def saved_model_loads_strictly(context, family, lora):
    out = finetune(context, family, lora)
    model = load_strictly(out)
    ours = context.run("logits", "--model", out, "--ids", ",".join(map(str, PROMPT)))["logits"]
    difference = max_difference(ours, torch_logits(model, PROMPT))
    base = max_difference(ours, torch_logits(load_strictly(os.path.join(FIXTURES, family)), PROMPT))
    if difference > 1e-4:
        raise CheckFailed(f"logits differ by {difference:.3g}")
    if base < 1e-3:
        raise CheckFailed(f"the fine-tuned logits are within {base:.3g} of the base model's: nothing was trained")
    detail = f"strict load, logits max |diff| {difference:.2e} (the base model's differ by {base:.3g})"
    if lora:
        import peft
        base_model = load_strictly(os.path.join(FIXTURES, family))
        adapted = peft.PeftModel.from_pretrained(base_model, os.path.join(out, "adapter")).eval()
        lora_keys = [n for n, _ in adapted.named_parameters() if "lora_" in n]
        with torch.no_grad():
            peft_logits = adapted(torch.tensor([PROMPT])).logits[0].numpy()
        peft_difference = max_difference(ours, peft_logits)
        if peft_difference > 1e-4:
            raise CheckFailed(f"PEFT's adapted base model differs from the merged model by {peft_difference:.3g}")
        detail += f"; PEFT loads {len(lora_keys)} adapter tensors, logits max |diff| {peft_difference:.2e}"
    tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    text = open(training_text(context)).read()
    ours_ids = context.run("tokenize", "--tokenizer", os.path.join(out, "tokenizer.json"),
                           "--text-file", training_text(context))["ids"]
    if tokenizer(text, add_special_tokens=False)["input_ids"] != ours_ids:
        raise CheckFailed("AutoTokenizer on the saved folder encodes differently")
    return detail + "; AutoTokenizer reads the saved tokenizer"


@check
def gpt2_full_finetune_loads_in_transformers(context):
    return saved_model_loads_strictly(context, "gpt2", lora=False)


@check
def llama_full_finetune_loads_in_transformers(context):
    return saved_model_loads_strictly(context, "llama", lora=False)


@check
def gpt2_lora_finetune_loads_in_transformers_and_peft(context):
    return saved_model_loads_strictly(context, "gpt2", lora=True)


@check
def llama_lora_finetune_loads_in_transformers_and_peft(context):
    return saved_model_loads_strictly(context, "llama", lora=True)


# Models made by transformers with other settings than the fixtures (the hidden set's kind).


def made_models(context):
    """Four models saved by transformers: name → (folder, vocabulary size)."""
    made = context.path("made")
    if os.path.exists(made):
        return json.load(open(os.path.join(made, "index.json")))
    os.makedirs(made)
    specs = {
        "gpt2-seed1-v300": (1, transformers.GPT2Config(
            n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=300, initializer_range=0.2,
            resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, eos_token_id=0, bos_token_id=0)),
        "llama-tied-theta500k": (2, transformers.LlamaConfig(
            hidden_size=48, intermediate_size=100, num_hidden_layers=2, num_attention_heads=6,
            num_key_value_heads=2, vocab_size=300, max_position_embeddings=64,
            rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, rms_norm_eps=1e-6,
            tie_word_embeddings=True, initializer_range=0.2, eos_token_id=0, bos_token_id=0)),
        "llama-mqa-v333": (3, transformers.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=1, vocab_size=333, max_position_embeddings=64,
            rope_parameters={"rope_type": "default", "rope_theta": 1000.0}, rms_norm_eps=1e-5,
            tie_word_embeddings=False, initializer_range=0.2, eos_token_id=0, bos_token_id=0)),
    }
    index = {}
    for name, (seed, config) in specs.items():
        torch.manual_seed(seed)
        model = transformers.AutoModelForCausalLM.from_config(config).eval()
        with torch.no_grad():  # norms away from 1, as in the fixtures
            for parameter_name, parameter in model.named_parameters():
                if "norm" in parameter_name or "ln_" in parameter_name:
                    parameter.add_(0.2 * torch.randn_like(parameter))
        folder = os.path.join(made, name)
        model.save_pretrained(folder)
        index[name] = [folder, config.vocab_size]
    # A transformers 4 style config: rope_theta at the top level, no rope_parameters.
    folder4 = os.path.join(made, "llama-v4-config")
    subprocess.run(["cp", "-r", index["llama-mqa-v333"][0], folder4], check=True)
    config = json.load(open(os.path.join(folder4, "config.json")))
    theta = config.pop("rope_parameters")["rope_theta"]
    config["rope_theta"] = theta
    config["rope_scaling"] = None
    json.dump(config, open(os.path.join(folder4, "config.json"), "w"), indent=2)
    index["llama-v4-config"] = [folder4, 333]
    json.dump(index, open(os.path.join(made, "index.json"), "w"))
    return index


def model_agrees(context, name):
    folder, vocab = made_models(context)[name]
    model = load_strictly(folder)
    rng = random.Random(name)
    prompt = [rng.randrange(vocab) for _ in range(9)]
    ours = context.run("logits", "--model", folder, "--ids", ",".join(map(str, prompt)))["logits"]
    difference = max_difference(ours, torch_logits(model, prompt))
    if difference > 1e-4:
        raise CheckFailed(f"logits differ by {difference:.3g}")
    with torch.no_grad():
        theirs = model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=20, min_new_tokens=20,
                                eos_token_id=None, pad_token_id=0)[0, len(prompt):].tolist()
    generated = context.run("generate", "--model", folder, "--ids", ",".join(map(str, prompt)),
                            "--max-new-tokens", "20", "--greedy", "--ignore-eos")["ids"]
    if generated != theirs:
        raise CheckFailed(f"greedy continuation {generated} != transformers' {theirs}")
    batch = [[rng.randrange(vocab) for _ in range(12)] for _ in range(2)]
    ids_file = context.path(f"{name}-ids.txt")
    with open(ids_file, "w") as f:
        f.write("\n".join(",".join(map(str, row)) for row in batch) + "\n")
    result = context.run("loss", "--model", folder, "--ids-file", ids_file)
    model.zero_grad()
    loss = model(torch.tensor(batch), labels=torch.tensor(batch)).loss
    loss.backward()
    loss_difference = abs(result["loss"] - loss.item()) / loss.item()
    norms = {n: p.grad.norm().item() for n, p in model.named_parameters()}
    if set(norms) != set(result["grad_norms"]):
        raise CheckFailed(f"gradient names differ: {sorted(set(norms) ^ set(result['grad_norms']))}")
    worst = max(abs(result["grad_norms"][n] - v) / max(v, 1e-12) for n, v in norms.items())
    if loss_difference > 1e-4 or worst > 1e-4:
        raise CheckFailed(f"loss relative difference {loss_difference:.3g}, worst gradient norm {worst:.3g}")
    return (f"logits max |diff| {difference:.2e}; 20 greedy tokens identical; loss rel. diff {loss_difference:.1e}, "
            f"worst of {len(norms)} gradient norms {worst:.1e}")


@check
def gpt2_seed1_vocab300(context):
    return model_agrees(context, "gpt2-seed1-v300")


@check
def llama_tied_rope_theta_500k(context):
    return model_agrees(context, "llama-tied-theta500k")


@check
def llama_one_kv_head_vocab333(context):
    return model_agrees(context, "llama-mqa-v333")


@check
def llama_transformers4_style_config(context):
    return model_agrees(context, "llama-v4-config")


def random_text(rng):
    pieces = ["hello", "World", " ", "  ", "   ", "\n", "\n\n", "\t", " \t ", "I'm", "it's", "WE'LL", "they've",
              "1984", "3.14159", "½", "Ⅻ", "٣", "Café", "naïve", "e\u0301", "Łódź", "日本語", "中文", "한국어", "🍕",
              "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "👍🏽", "!!", "...", "---", "(x)", "<|endoftext|>", "\u00a0", "\u3000",
              "\u2028", "\r\n", "_", "$", "ÿ", "\x7f", "\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30)))


@check
def tokenizer_trained_here_matches_tokenizers(context):
    """A byte-level BPE of another vocabulary size, trained on other text; 120 random Unicode texts."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    rng = random.Random(5)
    corpus = [random_text(rng) for _ in range(3000)] + [open(training_text(context)).read()]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<|endoftext|>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus, trainer)
    path = context.path("trained-tokenizer.json")
    tokenizer.save(path)
    for i in range(120):
        text = random_text(rng)
        text_file = context.path("text.txt")
        with open(text_file, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        expected = tokenizer.encode(text, add_special_tokens=False).ids
        ours = context.run("tokenize", "--tokenizer", path, "--text-file", text_file)["ids"]
        if ours != expected:
            raise CheckFailed(f"text {text!r}: ids {ours} != tokenizers' {expected}")
        if expected:
            for skip in (False, True):
                args = ["decode", "--tokenizer", path, "--ids", ",".join(map(str, expected))]
                decoded = context.run(*args, *(["--skip-special-tokens"] if skip else []))["text"]
                if decoded != tokenizer.decode(expected, skip_special_tokens=skip):
                    raise CheckFailed(f"text {text!r}: decode (skip {skip}) {decoded!r} differs")
    return "vocabulary 700, 120 random texts: ids and both decodes identical"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf-model", required=True, help="the hf-model binary")
    parser.add_argument("--only", nargs="*", help="run only these checks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.simplefilter("ignore", FutureWarning)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}", flush=True)
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        context = Context(os.path.abspath(args.hf_model), scratch)
        for name, function in CHECKS:
            if args.only and name not in args.only:
                continue
            try:
                print(f"PASS {name}: {function(context)}", flush=True)
            except CheckFailed as error:
                failed += 1
                print(f"FAIL {name}: {error}", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {name}: {traceback.format_exc().strip().splitlines()[-1]}", flush=True)
                traceback.print_exc()
    print(f"{len([c for c in CHECKS if not args.only or c[0] in args.only]) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
