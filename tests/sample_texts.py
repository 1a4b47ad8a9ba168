"""One short text per language and a mixed-language one: what the runtime tests read (TTS and OnnxTTS alike)."""

from __future__ import annotations

SAMPLE_TEXTS = {
    "KR": "안녕하세요. 반갑습니다.",
    "EN": "Hello, how are you?",
    "ZH": "你好，今天天气很好。",
    "JP": "東京に行きました。",
    "mixed": "오늘 meeting은 3시에 시작해요. 我今天很忙, but I will call you.",
}
