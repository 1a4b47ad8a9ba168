"""Command-line synthesis.

    python -m melo.infer --model checkpoints/melo_bge_m3/G_latest.pth --text "안녕하세요. Hello!" --speaker 0 --output out.wav
    python -m melo.infer --model checkpoints/melo_bge_m3/G_latest.pth --file story.txt --speaker SPEAKER_001 --output story.wav
    python -m melo.infer --model checkpoints/melo_bge_m3/G_latest.pth --list-speakers
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from melo.path_kind import not_a_file

logger = logging.getLogger("melo.infer")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from melo.api import PRECISIONS

    p = argparse.ArgumentParser(prog="python -m melo.infer", description="Synthesise speech from a trained melo-bge-m3 checkpoint.")
    p.add_argument("--model", required=True, help="generator checkpoint, e.g. checkpoints/melo_bge_m3/G_latest.pth")
    p.add_argument("--config", help="config file (optional: G_latest.pth carries its own)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--text", help="text to read (any mix of KR/EN/ZH/JP)")
    src.add_argument("--file", help="UTF-8 text file to read")
    p.add_argument("--speaker", default="0", help="speaker name or integer id (default 0)")
    p.add_argument("--output", default="out.wav",
                   help="audio file to write, format by extension: .wav .flac .mp3 .opus/.ogg .pcm/.raw (default out.wav)")
    p.add_argument("--language", help="KR, EN, ZH or JP: breaks ties only; default: detect")
    p.add_argument("--speed", type=float, default=1.0, help="speaking rate (default 1.0)")
    p.add_argument("--sdp-ratio", type=float, default=0.2)
    p.add_argument("--noise-scale", type=float, default=0.6)
    p.add_argument("--noise-scale-w", type=float, default=0.8)
    p.add_argument("--seed", type=int, help="fix the sampling noise for repeatable audio")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="auto: fast paths (bf16/int8 on CPU); int8: auto plus an int8 vocoder on CPU (~20%% faster; "
                        "listen before you ship it); fp32: exact")
    p.add_argument("--list-speakers", action="store_true", help="print the checkpoint's speakers and exit")
    args = p.parse_args(argv)
    if not args.list_speakers and args.text is None and args.file is None:
        p.error("one of --text or --file is required (or --list-speakers)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from melo.api import TTS

    try:
        text = None
        if args.file is not None:
            kind = not_a_file(args.file)
            if kind is not None:
                print(f"error: {args.file}: cannot read text: it {kind}", file=sys.stderr)
                return 2
            try:
                text = Path(args.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                print(f"error: {args.file}: cannot read text ({e})", file=sys.stderr)
                return 2
        elif args.text is not None:
            text = args.text
        tts = TTS(args.model, config_path=args.config, device=args.device, precision=args.precision)
        if args.list_speakers:
            for name, idx in sorted(tts.speakers.items(), key=lambda kv: kv[1]):
                print(f"{idx}\t{name}")
            return 0
        speaker: int | str = int(args.speaker) if args.speaker.lstrip("-").isdigit() else args.speaker
        t0 = time.perf_counter()
        audio = tts.synthesize(
            text or "", speaker_id=speaker, output_path=args.output, language=args.language, speed=args.speed,
            sdp_ratio=args.sdp_ratio, noise_scale=args.noise_scale, noise_scale_w=args.noise_scale_w, seed=args.seed,
        )
        elapsed = time.perf_counter() - t0
        seconds = audio.shape[0] / tts.sample_rate
        print(f"wrote {args.output}: {seconds:.2f} s of audio at {tts.sample_rate} Hz in {elapsed:.2f} s (RTF {elapsed / max(seconds, 1e-9):.3f})")
        return 0
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
