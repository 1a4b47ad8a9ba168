"""The learning-proof corpus: hundreds of espeak-ng utterances in four languages, plus held-out sentences.

    python -m melo.demo.proof_corpus OUT_DIR [--per-language 180] [--held-out 12] [--voices 2]

writes::

    OUT_DIR/wavs/*.wav          44.1 kHz mono 16-bit
    OUT_DIR/train_list.txt      wavs/x.wav|text|SPEAKER|LANG   (per-language sentences, voices in turn)
    OUT_DIR/val_list.txt        a few more sentences of the training side (the trainer's validation)
    OUT_DIR/heldout_list.txt    held-out sentences, each read by every voice: in no training or validation line

Sentences come from :mod:`melo.demo.sentences` (small grammars; the held-out ones from the far end of each
language's fixed order), voices from :data:`melo.demo.corpus.SPEAKERS` (the first ``--voices`` of them, the same
names as the demo corpus's speakers). The output is a pure function of the arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from melo.demo.corpus import SAMPLE_RATE, SPEAKERS, Speaker, espeak_executable, espeak_text, speak
from melo.demo.sentences import LANGUAGES, Sentence, held_out_sentences, sentences

__all__ = ["ProofCorpus", "build_proof_corpus", "main"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProofCorpus:
    out_dir: Path
    train_list: Path
    val_list: Path
    held_out_list: Path
    speakers: tuple[str, ...]
    n_train: int
    n_val: int
    n_held_out: int
    seconds: float


@dataclass(frozen=True)
class _Job:
    split: str
    name: str
    sentence: Sentence
    speaker: Speaker


def build_proof_corpus(out_dir: str | Path, per_language: int = 180, val_per_language: int = 4,
                       held_out_per_language: int = 12, voices: int = 2, workers: int = 2,
                       espeak: str | None = None) -> ProofCorpus:
    if not 1 <= voices <= len(SPEAKERS):
        raise ValueError(f"voices must be in 1..{len(SPEAKERS)}, got {voices}")
    exe = espeak_executable(espeak)
    out_dir = Path(out_dir)
    (out_dir / "wavs").mkdir(parents=True, exist_ok=True)
    cast = SPEAKERS[:voices]

    jobs: list[_Job] = []
    for lang in LANGUAGES:
        side = sentences(lang, per_language + val_per_language)
        for i, sentence in enumerate(side):
            split = "train" if i < per_language else "val"
            speaker = cast[i % len(cast)]
            jobs.append(_Job(split, f"{split}_{lang.lower()}_{i:04d}_{speaker.name}.wav", sentence, speaker))
        for i, sentence in enumerate(held_out_sentences(lang, held_out_per_language)):
            for speaker in cast:
                jobs.append(_Job("heldout", f"heldout_{lang.lower()}_{i:03d}_{speaker.name}.wav", sentence, speaker))

    from tqdm import tqdm

    with tempfile.TemporaryDirectory(prefix="melo-proof-") as tmp, ThreadPoolExecutor(max(1, workers)) as pool:
        def voice(job: _Job) -> float:
            folder = Path(tmp) / job.name  # one scratch folder per job: espeak-ng writes its WAV there
            folder.mkdir()
            audio = speak(exe, job.sentence.language,
                          espeak_text(job.sentence.language, job.sentence.text, job.sentence.reading),
                          job.speaker, folder)
            from melo.audio import save_wav

            save_wav(out_dir / "wavs" / job.name, audio, SAMPLE_RATE)
            return audio.shape[0] / SAMPLE_RATE

        seconds = sum(tqdm(pool.map(voice, jobs), total=len(jobs), unit="clip", desc="espeak-ng",
                           disable=not sys.stderr.isatty()))

    lists = {split: out_dir / f"{split}_list.txt" for split in ("train", "val", "heldout")}
    for split, path in lists.items():
        rows = [f"wavs/{j.name}|{j.sentence.text}|{j.speaker.name}|{j.sentence.language}" for j in jobs if j.split == split]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    count = {split: sum(j.split == split for j in jobs) for split in lists}
    return ProofCorpus(out_dir, lists["train"], lists["val"], lists["heldout"], tuple(s.name for s in cast),
                       count["train"], count["val"], count["heldout"], seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m melo.demo.proof_corpus", description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--per-language", type=int, default=180, help="training sentences per language (default 180)")
    p.add_argument("--val", type=int, default=4, help="validation sentences per language (default 4)")
    p.add_argument("--held-out", type=int, default=12, help="held-out sentences per language (default 12)")
    p.add_argument("--voices", type=int, default=2, help=f"espeak-ng voices (1..{len(SPEAKERS)}, default 2)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        info = build_proof_corpus(args.out_dir, args.per_language, args.val, args.held_out, args.voices)
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{info.out_dir}: {info.n_train} training, {info.n_val} validation and {info.n_held_out} held-out lines, "
          f"voices {', '.join(info.speakers)}, {info.seconds / 60:.1f} min of audio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
