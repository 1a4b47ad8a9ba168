"""A small synthetic multi-speaker corpus in Korean, English, Chinese and Japanese, made with espeak-ng.

    python -m melo.demo.corpus OUT_DIR [--speakers 4] [--seed 0]

writes the seed's layout::

    OUT_DIR/wavs/*.wav        44.1 kHz mono 16-bit
    OUT_DIR/train_list.txt    wavs/x.wav|text|SPEAKER|LANG   (some lines without LANG, some mixed-language)
    OUT_DIR/val_list.txt

Speakers are espeak-ng voice variants with their own pitch and speed; every speaker reads lines in every
language. espeak-ng cannot read kanji or Chinese characters, so Japanese lines are voiced from a kana
reading kept beside each sentence and Chinese lines from pypinyin TONE3 syllables (``cmn-latn-pinyin``
voice). A mixed-language line is voiced stretch by stretch, each with its language's voice, and joined.
espeak-ng writes 22.05 kHz; the clips are resampled to 44.1 kHz with soxr. The output is a pure function
of the arguments (byte-identical on the same espeak-ng/soxr versions).
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SPEAKERS", "CorpusInfo", "Speaker", "build_corpus", "espeak_text", "main", "speak"]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100
ESPEAK_RATE = 22050
GAP_SECONDS = 0.06
"""Silence between the language stretches of a mixed-language line."""

VOICES = {"KR": "ko", "EN": "en-us", "ZH": "cmn-latn-pinyin", "JP": "ja"}


@dataclass(frozen=True)
class Speaker:
    name: str
    variant: str  # espeak-ng voice variant
    pitch: int  # -p, 0..99
    speed: int  # -s, words per minute


SPEAKERS = (
    Speaker("alice", "+f3", 62, 155),
    Speaker("bruno", "+m3", 38, 145),
    Speaker("chen", "+f2", 75, 170),
    Speaker("dara", "+m1", 28, 135),
    Speaker("emi", "+f4", 55, 160),
    Speaker("farid", "+m2", 45, 175),
    Speaker("gita", "+f1", 68, 140),
    Speaker("hana", "+m4", 33, 165),
)

KR = [
    "안녕하세요. 만나서 반갑습니다.",
    "오늘은 날씨가 정말 좋네요.",
    "저는 아침마다 커피를 마셔요.",
    "이 책은 아주 재미있어요.",
    "주말에 친구와 영화를 봤어요.",
    "지하철역이 어디에 있나요?",
    "내일 아침 일찍 출발할 거예요.",
    "한국어 공부는 어렵지만 재미있어요.",
    "시장에서 사과를 샀습니다.",
    "창문을 조금 열어 주세요.",
    "우리 집 강아지는 산책을 좋아해요.",
    "비가 와서 우산을 가져왔어요.",
    "점심으로 비빔밥을 먹었어요.",
    "도서관은 아홉 시에 문을 엽니다.",
    "감사합니다. 좋은 하루 보내세요.",
    "음악을 들으면 기분이 좋아져요.",
]
EN = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me when you arrive at the station.",
    "It is a beautiful day for a walk in the park.",
    "She sells sea shells by the sea shore.",
    "Could you tell me the way to the library?",
    "We will meet again at seven tomorrow evening.",
    "The weather report says it will rain tonight.",
    "I would like a cup of tea with some milk.",
    "Reading a good book is a quiet pleasure.",
    "Our train leaves from platform number four.",
    "He painted the old fence bright green.",
    "The children laughed and ran across the field.",
    "Thank you very much for your kind help.",
    "Music fills the room with a warm light.",
    "Turn left at the corner and walk two blocks.",
    "A small boat drifted slowly down the river.",
]
ZH = [
    "你好，很高兴认识你。",
    "今天天气很好。",
    "我每天早上喝一杯茶。",
    "这本书非常有意思。",
    "我们明天下午见面吧。",
    "请问火车站在哪里？",
    "他喜欢在公园里跑步。",
    "这个城市的夜景很美。",
    "妈妈做的饭最好吃。",
    "我正在学习说中文。",
    "外面下雨了，记得带伞。",
    "周末我们去爬山吧。",
    "谢谢你的帮助。",
    "图书馆九点开门。",
    "小猫在窗台上睡觉。",
    "音乐让我很快乐。",
]
# (text, kana reading for espeak-ng, which cannot read kanji)
JP = [
    ("こんにちは。はじめまして。", "こんにちは。はじめまして。"),
    ("今日はいい天気ですね。", "きょうは いい てんきですね。"),
    ("毎朝コーヒーを飲みます。", "まいあさ こーひーを のみます。"),
    ("この本はとても面白いです。", "この ほんは とても おもしろいです。"),
    ("駅はどこですか？", "えきは どこですか？"),
    ("明日また会いましょう。", "あした また あいましょう。"),
    ("日本語を勉強しています。", "にほんごを べんきょうしています。"),
    ("雨が降っています。", "あめが ふっています。"),
    ("ありがとうございます。", "ありがとうございます。"),
    ("猫が窓の近くで寝ています。", "ねこが まどの ちかくで ねています。"),
    ("週末は山に行きました。", "しゅうまつは やまに いきました。"),
    ("お茶をください。", "おちゃを ください。"),
    ("図書館は九時に開きます。", "としょかんは くじに あきます。"),
    ("音楽を聴くのが好きです。", "おんがくを きくのが すきです。"),
    ("電車が遅れています。", "でんしゃが おくれています。"),
    ("おやすみなさい。", "おやすみなさい。"),
]
# mixed-language lines (no LANG tag: the frontend detects each stretch)
MIXED = [
    "오늘 meeting 은 세 시에 시작합니다.",
    "이 노래는 정말 beautiful 해요.",
    "제 email 주소를 알려 드릴게요.",
    "我喜欢用 Python 写程序。",
    "주말에 Netflix 를 봤어요.",
    "这个 weekend 我们去看电影。",
]


@dataclass(frozen=True)
class Line:
    text: str
    language: str | None  # the tag written in the filelist (None: omitted)
    voice_language: str  # what to voice single-language lines with; "MIXED" for mixed lines


@dataclass(frozen=True)
class CorpusInfo:
    out_dir: Path
    train_list: Path
    val_list: Path
    speakers: tuple[str, ...]
    n_train: int
    n_val: int
    seconds: float


def espeak_executable(given: str | None = None) -> str:
    """``given``, else espeak-ng found on PATH; a RuntimeError that says how to install it when there is none."""
    exe = given or shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng not found; install it (Debian/Ubuntu: apt-get install espeak-ng)")
    return exe


def build_corpus(out_dir: str | Path, speakers: int = 4, seed: int = 0, espeak: str | None = None) -> CorpusInfo:
    """Synthesise the corpus into ``out_dir`` (created; existing wavs of the same names are overwritten)."""
    if not 1 <= speakers <= len(SPEAKERS):
        raise ValueError(f"--speakers must be in 1..{len(SPEAKERS)}, got {speakers}")
    exe = espeak_executable(espeak)
    out_dir = Path(out_dir)
    wav_dir = out_dir / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cast = SPEAKERS[:speakers]

    lines: list[Line] = []
    for lang, sentences in (("KR", KR), ("EN", EN), ("ZH", ZH), ("JP", [t for t, _ in JP])):
        for text in sentences:
            tag = None if rng.random() < 0.2 else lang  # about one line in five without a LANG tag
            lines.append(Line(text, tag, lang))
    lines += [Line(text, None, "MIXED") for text in MIXED]
    rng.shuffle(lines)
    n_val = 8
    val, train = lines[:n_val], lines[n_val:]

    total_seconds = 0.0
    written: dict[str, list[str]] = {"train": [], "val": []}
    with tempfile.TemporaryDirectory(prefix="melo-corpus-") as tmp:
        for split, split_lines in (("train", train), ("val", val)):
            for i, line in enumerate(split_lines):
                # train: speakers in turn; val: also in turn, so every val speaker is a train speaker
                speaker = cast[(i + (0 if split == "train" else 1)) % len(cast)]
                audio = _voice_line(exe, line, speaker, Path(tmp))
                name = f"{split}_{i:03d}_{speaker.name}.wav"
                _save(wav_dir / name, audio)
                total_seconds += audio.shape[0] / SAMPLE_RATE
                fields = [f"wavs/{name}", line.text, speaker.name] + ([line.language] if line.language else [])
                written[split].append("|".join(fields))
    train_list, val_list = out_dir / "train_list.txt", out_dir / "val_list.txt"
    train_list.write_text("\n".join(written["train"]) + "\n", encoding="utf-8")
    val_list.write_text("\n".join(written["val"]) + "\n", encoding="utf-8")
    return CorpusInfo(out_dir, train_list, val_list, tuple(s.name for s in cast), len(train), len(val), total_seconds)


_STRETCH = re.compile(r"[A-Za-z][A-Za-z'\- ]*[A-Za-z]|[A-Za-z]")


def _stretches(text: str, base_language: str) -> list[tuple[str, str]]:
    """Split a mixed line into (language, text) stretches: Latin words are EN, the rest ``base_language``."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _STRETCH.finditer(text):
        if text[pos : m.start()].strip():
            out.append((base_language, text[pos : m.start()]))
        out.append(("EN", m.group(0)))
        pos = m.end()
    if text[pos:].strip(" 。.!?！？，,"):
        out.append((base_language, text[pos:]))
    return out


def _voice_line(exe: str, line: Line, speaker: Speaker, tmp: Path) -> np.ndarray:
    if line.voice_language != "MIXED":
        return speak(exe, line.voice_language, espeak_text(line.voice_language, line.text), speaker, tmp)
    base = "ZH" if re.search(r"[\u4e00-\u9fff]", line.text) else "KR"
    gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for lang, stretch in _stretches(line.text, base):
        if parts:
            parts.append(gap)
        parts.append(speak(exe, lang, espeak_text(lang, stretch), speaker, tmp))
    return np.concatenate(parts)


def espeak_text(language: str, text: str, reading: str | None = None) -> str:
    """What espeak-ng is given for ``text``: pinyin syllables (ZH), the kana ``reading`` (JP; the demo's
    Japanese lines carry their own), else the text."""
    if language == "ZH":
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
        joined = " ".join(s.strip() for s in syllables if s.strip())
        return joined.translate(str.maketrans({"，": ",", "。": ".", "？": "?", "！": "!"}))
    if language == "JP":
        if reading is not None:
            return reading
        readings = dict(JP)
        if text not in readings:
            raise ValueError(f"no kana reading for Japanese demo line {text!r}")
        return readings[text]
    return text


def speak(exe: str, language: str, text: str, speaker: Speaker, tmp: Path) -> np.ndarray:
    """Voice ``text`` (already in espeak-ng's form, see :func:`espeak_text`) with ``speaker``; 44.1 kHz mono."""
    import soundfile as sf
    import soxr

    out = tmp / "clip.wav"
    cmd = [exe, "-v", VOICES[language] + speaker.variant, "-p", str(speaker.pitch), "-s", str(speaker.speed), "-w", str(out), "--", text]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"espeak-ng failed ({result.returncode}) for {text!r}: {result.stderr.strip()}")
    audio, sr = sf.read(str(out), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    return soxr.resample(mono, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)


def _save(path: Path, audio: np.ndarray) -> None:
    from melo.audio import save_wav

    save_wav(path, audio, SAMPLE_RATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melo.demo.corpus", description="Synthesise the demo corpus with espeak-ng.")
    parser.add_argument("out_dir", help="output folder (wavs/, train_list.txt, val_list.txt)")
    parser.add_argument("--speakers", type=int, default=4, help=f"number of speakers (1..{len(SPEAKERS)}, default 4)")
    parser.add_argument("--seed", type=int, default=0, help="shuffles lines, LANG omissions and speaker turns")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        info = build_corpus(args.out_dir, speakers=args.speakers, seed=args.seed)
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"{info.out_dir}: {info.n_train} training + {info.n_val} validation lines, "
        f"{len(info.speakers)} speakers ({', '.join(info.speakers)}), {info.seconds / 60:.1f} min of audio"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
