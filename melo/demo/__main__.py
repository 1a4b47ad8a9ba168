"""``python -m melo.demo``: the whole workflow on built-in demo data, on CPU, in a few minutes.

1. builds the espeak-ng demo corpus (``demo/data``: 4 speakers, KR/EN/ZH/JP, some untagged and
   mixed-language lines) unless it is there;
2. builds the tiny random stand-in for bge-m3 (``demo/tiny_encoder``) unless it is there -- this machine
   class has no internet, so the real encoder cannot be fetched; the stand-in exercises the pipeline only
   (its features carry no meaning, so the demo voice will not be intelligible);
3. trains ``configs/tiny.json`` with ``python -m melo.train`` semantics (preprocessing included) into
   ``checkpoints/demo`` -- resuming when an earlier demo run left checkpoints;
4. synthesises a mixed-language sentence to ``demo/sample.wav`` with ``melo.api.TTS``;
5. prints where everything is.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

DEMO_TEXT = "안녕하세요. This is melo-bge-m3. 我们说四种语言。東京から来ました。"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m melo.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=600, help="training steps in total (default 600, about 3 min on 2 cores; a rerun continues up to this)")
    p.add_argument("--config", default="configs/tiny.json", help="demo config (default configs/tiny.json)")
    p.add_argument("--name", default="demo", help="run name: checkpoints/NAME, logs/NAME (default demo)")
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

        log.info("building the tiny random stand-in encoder in %s (a smoke-test stand-in, NOT bge-m3)", encoder)
        build_tiny_encoder(encoder)
    else:
        log.info("stand-in encoder: %s (already built)", encoder)

    import melo.train
    from melo.checkpoint import complete_steps

    ckpt_dir = Path("checkpoints") / args.name
    done = complete_steps(ckpt_dir) if ckpt_dir.is_dir() else []
    if done and max(done) >= args.steps:
        log.info("%s already holds step %d (>= --steps %d): skipping training", ckpt_dir, max(done), args.steps)
    else:
        train_argv = ["--config", args.config, "--model", args.name, "--max-steps", str(args.steps), "--device", "cpu"]
        if done:
            train_argv.append("--resume")
            log.info("continuing the earlier demo run from step %d", max(done))
        status = melo.train.main(train_argv)
        if status != 0:
            log.error("training failed (exit status %d); see logs/train_%s_*.log", status, args.name)
            return status

    from melo.api import TTS

    setup_logging(is_main=True)  # the trainer closed its handlers
    out = Path(corpus.parent) / "sample.wav"
    tts = TTS(ckpt_dir / "G_latest.pth", device="cpu")
    audio = tts.synthesize(DEMO_TEXT, speaker_id=0, output_path=out, seed=0)
    minutes = (time.perf_counter() - started) / 60
    logs = sorted(Path("logs").glob(f"train_{args.name}_*.log"))
    print(
        f"""
Demo finished in {minutes:.1f} min.
  corpus           {corpus}/ (train_list.txt, val_list.txt, wavs/)
  stand-in encoder {encoder}/ (tiny random XLM-RoBERTa, NOT bge-m3: the voice is not intelligible)
  checkpoints      {ckpt_dir}/ (G_latest.pth for inference; G_/D_/optimizer_<step>.pth for --resume)
  log file         {logs[-1] if logs else 'logs/'}
  sample           {out} ({audio.shape[0] / tts.sample_rate:.1f} s: {DEMO_TEXT})
  TensorBoard      .venv/bin/tensorboard --logdir logs/{args.name}
  synthesise       .venv/bin/python -m melo.infer --model {ckpt_dir}/G_latest.pth --text "Hello, 세계!" --speaker {next(iter(tts.speakers), 0)} --output hello.wav
Real training: put your data in data/ (see README), then ./train.sh"""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
