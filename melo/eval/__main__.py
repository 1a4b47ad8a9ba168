"""``python -m melo.eval``: synthesise a filelist with a checkpoint and score it against the recordings.

    python -m melo.eval --model checkpoints/melo_bge_m3/G_latest.pth --list data/val_list.txt --out eval/
    python -m melo.eval --model G_latest.pth --list val_list.txt --speaker-list train_list.txt --metrics core

Every line of ``--list`` (``wav|text|speaker|LANG?``, paths relative to the list, as for training) is read
by its speaker with the checkpoint; the untagged lines take the language of most of their text. Three
systems are scored on the same lines: ``reference`` (the recordings themselves: each metric's ceiling),
``model`` (the checkpoint) and ``control`` (an untrained model of the same config, random weights from
``--seed``: each metric's floor; ``--control none`` skips it). Prints a table per language and overall, and
writes to ``--out``: ``report.json`` (aggregates and every row), ``report.csv`` (one line per system and
utterance), ``mels/NNN_<line>.png`` (mel spectrograms: reference | model | control) and ``wavs/`` (the
syntheses). Nothing is downloaded (the Hugging Face hub is set offline).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import numpy as np  # noqa: E402

if TYPE_CHECKING:  # the heavy imports wait until the arguments are read
    from melo.api import TTS
    from melo.eval.evaluate import Reference, SpeakerRecordings
    from melo.eval.report import EvalReport

logger = logging.getLogger("melo.eval")


class InputError(ValueError):
    """Bad input from the command line: reported as one line, no traceback."""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from melo.api import PRECISIONS
    from melo.eval.evaluate import ALL_METRICS

    p = argparse.ArgumentParser(prog="python -m melo.eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="generator checkpoint, e.g. checkpoints/melo_bge_m3/G_latest.pth")
    p.add_argument("--list", required=True, help="filelist to evaluate: wav|text|speaker|LANG? (the recordings are the references)")
    p.add_argument("--out", default="eval", help="folder for report.json, report.csv, mels/, wavs/ (default eval)")
    p.add_argument("--speaker-list", help="filelist of the speakers' own recordings for speaker similarity "
                                          "(default: the checkpoint's training list when it exists, else --list)")
    p.add_argument("--speaker-recordings", type=int, default=10, help="recordings per speaker read from --speaker-list (default 10)")
    p.add_argument("--control", choices=("untrained", "none"), default="untrained",
                   help="negative control: an untrained model of the same config (default), or none")
    p.add_argument("--metrics", default="all", help=f"comma-separated: {', '.join(ALL_METRICS)}; or core (the first two), all (default)")
    p.add_argument("--candidates", choices=("language", "all"), default="language",
                   help="closed-set identification among the lines of the same language (default) or all lines")
    p.add_argument("--config", help="config file (optional: the checkpoint carries its own; may point data.bert_model at a local encoder)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS, help="synthesis precision (default auto)")
    p.add_argument("--limit", type=int, help="evaluate only the first N lines")
    p.add_argument("--seed", type=int, default=0, help="sampling noise of the syntheses and the control's weights (default 0)")
    args = p.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be at least 1")
    if args.speaker_recordings < 1:
        p.error("--speaker-recordings must be at least 1")
    return args


@dataclass(frozen=True)
class Line:
    """One filelist line to evaluate."""

    key: str  # LIST:LINE
    wav: Path
    text: str
    speaker: str
    language: str


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from melo.eval.extras import MissingExtraError

    try:
        return _run(args)
    except InputError as e:  # one line per problem (a filelist may have several)
        print("\n".join(f"error: {line}" for line in str(e).splitlines()), file=sys.stderr)
        return 2
    except (MissingExtraError, ValueError, FileNotFoundError, RuntimeError) as e:  # a checkpoint that is not one, ...
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)  # one line, whatever the message holds
        return 2


def _run(args: argparse.Namespace) -> int:
    from melo.eval.evaluate import EXTRA_METRICS, parse_metrics
    from melo.eval.extras import check_extras

    try:
        metrics = parse_metrics(args.metrics)
    except ValueError as e:
        raise InputError(f"--metrics: {e}") from None
    check_extras(tuple(m for m in metrics if m in EXTRA_METRICS))  # before any slow work
    lines = _read_list(Path(args.list), args.limit)

    import torch

    from melo.api import TTS

    tts = TTS(args.model, config_path=args.config, device=args.device, precision=args.precision)
    _check_speakers(lines, tts.speakers)
    references = _load_references(lines, tts.sample_rate)
    speaker_recordings = None
    if "speaker" in metrics:
        speaker_recordings = _speaker_recordings(args, tts, {line.speaker for line in lines})

    from melo.eval.evaluate import Evaluator

    evaluator = Evaluator(references, speaker_recordings=speaker_recordings, metrics=metrics, candidates=args.candidates)
    syntheses = {"model": _synthesise(tts, lines, args.seed, "model")}
    if args.control == "untrained":
        from melo.model import build_generator

        torch.manual_seed(args.seed)
        untrained = build_generator(tts.config, tts.symbols)
        control = TTS.from_components(untrained, tts.features, tts.config, tts.symbols, tts.speakers, tts.device, tts.precision)
        syntheses["control"] = _synthesise(control, lines, args.seed, "control")

    from melo.eval.report import EvalReport

    reports = [evaluator.evaluate_references(progress=True)]
    for system, audio in syntheses.items():
        reports.append(evaluator.evaluate(audio, tts.sample_rate, system=system, progress=True))
    report = EvalReport.merge(*reports)
    out = _write_outputs(Path(args.out), report, lines, references, syntheses, tts.sample_rate)
    print(report.table())
    print(f"\nwrote {out / 'report.json'}, {out / 'report.csv'}, {out / 'mels'}/ (reference | {' | '.join(syntheses)}), {out / 'wavs'}/")
    return 0


def _read_list(path: Path, limit: int | None = None, strict: bool = True) -> list[Line]:
    """The list's lines; a problem (a malformed line, a missing audio file) is an error when ``strict``,
    else a warning and the line is left out."""
    from melo.data.filelist import parse_filelist

    parsed = parse_filelist(path, "eval")
    problems = [str(p) for p in parsed.problems]
    lines = []
    for row in parsed.rows:
        if not row.wav.is_file():
            problems.append(f"{row.filelist}:{row.line}: audio file not found: {row.wav}")
            continue
        lines.append(Line(f"{row.filelist.name}:{row.line}", row.wav, row.text, row.speaker, row.language or _main_language(row.text)))
    if problems and strict:
        raise InputError("\n".join(problems))
    for problem in problems:
        logger.warning("%s (line left out)", problem)
    lines = lines[:limit] if limit is not None else lines
    if not lines and strict:
        raise InputError(f"{path}: no lines to evaluate")
    return lines


def _main_language(text: str) -> str:
    """The language of most of an untagged line's characters."""
    from melo.text.language import segment_languages

    runs, _ = segment_languages(text)
    lengths: dict[str, int] = {}
    for run in runs:
        if run.language is not None:
            lengths[run.language] = lengths.get(run.language, 0) + run.end - run.start
    return max(lengths, key=lengths.__getitem__) if lengths else "EN"


def _check_speakers(lines: Sequence[Line], speakers: dict[str, int]) -> None:
    for line in lines:
        if line.speaker not in speakers:
            known = ", ".join(speakers) or "(none stored)"
            raise InputError(f"{line.key}: unknown speaker {line.speaker!r}; the checkpoint knows: {known}")


def _load_references(lines: Sequence[Line], sample_rate: int) -> list[Reference]:
    from melo.audio import load_audio
    from melo.eval.evaluate import Reference

    references = []
    for line in lines:
        try:
            clip = load_audio(line.wav, sample_rate)
        except RuntimeError as e:
            raise InputError(f"{line.key}: cannot read {line.wav}: {e}") from None
        if clip.samples.size == 0:
            raise InputError(f"{line.key}: {line.wav} holds no audio")
        references.append(Reference(line.key, line.text, line.language, line.speaker, clip.samples, sample_rate))
    return references


def _speaker_recordings(args: argparse.Namespace, tts: TTS, speakers: set[str]) -> dict[str, SpeakerRecordings] | None:
    """Up to ``--speaker-recordings`` recordings of each evaluated speaker, from ``--speaker-list`` or the
    checkpoint's training list; None (the references themselves) when there is neither."""
    from melo.audio import load_audio
    from melo.eval.evaluate import SpeakerRecordings

    source = Path(args.speaker_list) if args.speaker_list else Path(tts.config.data.training_files)
    if not source.is_file():
        if args.speaker_list:
            raise InputError(f"--speaker-list: {source}: no such file")
        logger.warning("speaker similarity: the training list %s is not here and --speaker-list was not given", source)
        return None
    lines = _read_list(source, strict=False)
    recordings: dict[str, SpeakerRecordings] = {}
    for speaker in sorted(speakers):
        own = [line for line in lines if line.speaker == speaker]
        if not own:
            logger.warning("speaker similarity: %s has no line for speaker %r", source, speaker)
            continue
        audio = []
        for line in own[: args.speaker_recordings]:
            try:
                audio.append(load_audio(line.wav, tts.sample_rate).samples)
            except RuntimeError as e:
                raise InputError(f"{line.key}: cannot read {line.wav}: {e}") from None
        recordings[speaker] = SpeakerRecordings(audio, tts.sample_rate, frozenset(line.language for line in own))
    logger.info("speaker similarity: profiles of %d speaker(s) from %s", len(recordings), source)
    return recordings


def _synthesise(tts: TTS, lines: Sequence[Line], seed: int, system: str) -> list[np.ndarray]:
    from tqdm import tqdm

    from melo.api import SynthesisError

    audio = []
    for line in tqdm(lines, desc=f"synthesising ({system})", unit="utt"):
        try:
            audio.append(tts.synthesize(line.text, speaker_id=line.speaker, language=line.language, seed=seed))
        except SynthesisError as e:
            raise InputError(f"{line.key}: {e}") from None
    return audio


def _write_outputs(out: Path, report: EvalReport, lines: Sequence[Line], references: Sequence[Reference],
                   syntheses: dict[str, list[np.ndarray]], sample_rate: int) -> Path:
    from melo.audio import save_wav
    from melo.eval.plots import mel_comparison_image, write_png

    out.mkdir(parents=True, exist_ok=True)
    report.to_json(out / "report.json")
    report.to_csv(out / "report.csv")
    for index, (line, reference) in enumerate(zip(lines, references)):
        name = f"{index:03d}_{_file_stem(line.key)}"
        panels = [(reference.audio, sample_rate)] + [(audio[index], sample_rate) for audio in syntheses.values()]
        write_png(out / "mels" / f"{name}.png", mel_comparison_image(panels))
        for system, audio in syntheses.items():
            save_wav(out / "wavs" / f"{name}_{system}.wav", audio[index], sample_rate)
    return out


def _file_stem(key: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "_", key)


if __name__ == "__main__":
    sys.exit(main())
