"""``python -m melo.demo``: the whole workflow on built-in demo data, on CPU, in a few minutes, ending in speech.

1. builds the espeak-ng demo corpus (``demo/data``: 4 speakers, KR/EN/ZH/JP, some untagged and mixed-language
   lines) unless it is there;
2. builds the tiny random stand-in for bge-m3 (``demo/tiny_encoder``) unless it is there -- this machine class has
   no internet, so the real encoder cannot be fetched; the stand-in is deterministic, and it is the one the base
   voice was trained with;
3. fine-tunes the shipped base voice (``melo/demo/base``: ``configs/cpu_base.json`` trained from scratch on the
   learning-proof corpus by ``benchmarks/learning_proof.py``) on the demo corpus with ``configs/demo.json`` and
   ``python -m melo.train`` semantics (preprocessing included) into ``checkpoints/demo`` -- resuming when an
   earlier demo run left checkpoints; ``--from-scratch`` starts from random weights instead (it will not speak
   after a few minutes);
4. synthesises one sentence per language that neither the base nor the demo data contains to ``demo/sample.wav``
   with ``melo.api.TTS``, and checks each sentence against espeak-ng readings of it and of other sentences
   (:mod:`melo.demo.sample_check`);
5. prints where everything is.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from melo.demo.sentences import LANGUAGES, held_out_sentences

CANDIDATES_PER_LANGUAGE = 12
"""The sample check's closed set: this many held-out sentences per language (chance 1 in 12)."""
DEMO_SENTENCES = [held_out_sentences(lang, CANDIDATES_PER_LANGUAGE)[0] for lang in LANGUAGES]
DEMO_TEXT = " ".join(s.text for s in DEMO_SENTENCES)
SPEAKER = "alice"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m melo.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=150,
                   help="fine-tuning steps in total (default 150, a few minutes on 2 cores; a rerun continues up to this)")
    p.add_argument("--config", default="configs/demo.json", help="demo config (default configs/demo.json)")
    p.add_argument("--name", default="demo", help="run name: checkpoints/NAME, logs/NAME (default demo)")
    p.add_argument("--from-scratch", action="store_true", help="train from random weights instead of the base voice")
    args = p.parse_args(argv)
    from melo.monitor import setup_logging

    setup_logging(is_main=True)
    log = logging.getLogger("melo.demo")

    from melo.config import load_config

    started = time.perf_counter()
    config = load_config(args.config)
    corpus = Path(config.data.training_files).parent
    encoder = Path(config.data.bert_model)
    if not (corpus / "train_list.txt").is_file():
        from melo.demo.corpus import build_corpus

        log.info("building the espeak-ng demo corpus in %s", corpus)
        build_corpus(corpus)
    else:
        log.info("demo corpus: %s (already built)", corpus)
    if not (encoder / "config.json").is_file():
        from melo.testing.tiny_encoder import build_tiny_encoder

        log.info("building the tiny random stand-in encoder in %s (a stand-in, NOT bge-m3)", encoder)
        build_tiny_encoder(encoder)
    else:
        log.info("stand-in encoder: %s (already built)", encoder)

    config_path = Path(args.config)
    if args.from_scratch:
        config_path = _without_initialisation(config_path, Path("checkpoints") / f"{args.name}.config.json")
    elif config.train.init_from and not Path(config.train.init_from).is_file():
        log.error("the base voice %s is missing (it ships with the repository; benchmarks/learning_proof.py "
                  "rebuilds it); or run with --from-scratch", config.train.init_from)
        return 2

    import melo.train
    from melo.checkpoint import complete_steps

    ckpt_dir = Path("checkpoints") / args.name
    done = complete_steps(ckpt_dir) if ckpt_dir.is_dir() else []
    if done and max(done) >= args.steps:
        log.info("%s already holds step %d (>= --steps %d): skipping training", ckpt_dir, max(done), args.steps)
    else:
        train_argv = ["--config", str(config_path), "--model", args.name, "--max-steps", str(args.steps),
                      "--device", "cpu"]
        if done:
            train_argv.append("--resume")
            log.info("continuing the earlier demo run from step %d", max(done))
        status = melo.train.main(train_argv)
        if status != 0:
            log.error("training failed (exit status %d); see logs/train_%s_*.log", status, args.name)
            return status

    import numpy as np

    from melo.api import TTS
    from melo.audio import save_wav
    from melo.demo.corpus import SPEAKERS
    from melo.demo.sample_check import check_sentences, format_checks

    setup_logging(is_main=True)  # the trainer closed its handlers
    out = Path(corpus.parent) / "sample.wav"
    tts = TTS(ckpt_dir / "G_latest.pth", device="cpu")
    chunks = list(tts.stream(DEMO_TEXT, speaker_id=SPEAKER, seed=0))
    audio = np.concatenate(chunks)
    save_wav(out, audio, tts.sample_rate)
    voice = next(s for s in SPEAKERS if s.name == SPEAKER)
    candidates = {lang: held_out_sentences(lang, CANDIDATES_PER_LANGUAGE) for lang in LANGUAGES}
    checks = check_sentences(chunks, tts.sample_rate, DEMO_SENTENCES, candidates, voice)
    minutes = (time.perf_counter() - started) / 60
    logs = sorted(Path("logs").glob(f"train_{args.name}_*.log"))
    print(
        f"""
{format_checks(checks, SPEAKER)}

Demo finished in {minutes:.1f} min; {sum(c.identified for c in checks)} of {len(checks)} sentences identified.
  corpus           {corpus}/ (train_list.txt, val_list.txt, wavs/)
  stand-in encoder {encoder}/ (tiny random XLM-RoBERTa, NOT bge-m3)
  started from     {"random weights (--from-scratch)" if args.from_scratch else config.train.init_from}
  checkpoints      {ckpt_dir}/ (G_latest.pth for inference, G_best.pth by {config.train.best_metric}; G_/D_/optimizer_<step>.pth for --resume)
  log file         {logs[-1] if logs else 'logs/'}
  sample           {out} ({audio.shape[0] / tts.sample_rate:.1f} s, speaker {SPEAKER}): {DEMO_TEXT}
  TensorBoard      .venv/bin/tensorboard --logdir logs/{args.name}
  synthesise       .venv/bin/python -m melo.infer --model {ckpt_dir}/G_latest.pth --text "{DEMO_SENTENCES[1].text}" --speaker {SPEAKER} --output hello.wav
Real training: put your data in data/ (see README), then ./train.sh"""
    )
    return 0


def _without_initialisation(config_path: Path, out: Path) -> Path:
    """A copy of the config without its ``init_from*`` fields."""
    from melo.config import load_config

    raw = load_config(config_path).to_dict()
    for key in ("init_from", "init_from_D", "init_from_DUR", "pretrained_G", "pretrained_D"):
        if key in raw["train"]:
            raw["train"][key] = None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(raw, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


if __name__ == "__main__":
    sys.exit(main())
