"""The acoustic model: MeloTTS's VITS2 + HiFi-GAN with one bge-m3 feature projection.

One file per component: ``text_encoder``, ``attention``, ``duration`` (+ ``splines``), ``alignment``,
``flow``, ``posterior``, ``decoder``, ``discriminators``, ``synthesizer`` and ``losses``.
Build from a config with :func:`build_generator` and :func:`build_discriminators`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from melo.config import Config
from melo.model.discriminators import (
    DiscriminatorOutput,
    DurationDiscriminator,
    DurationDiscriminatorOutput,
    MultiPeriodDiscriminator,
)
from melo.model.synthesizer import DurationDiscriminatorInputs, GeneratorOutput, InferenceOutput, SynthesizerTrn
from melo.text.symbols import SymbolTable

__all__ = [
    "DiscriminatorOutput",
    "Discriminators",
    "DurationDiscriminator",
    "DurationDiscriminatorInputs",
    "DurationDiscriminatorOutput",
    "GeneratorOutput",
    "InferenceOutput",
    "MultiPeriodDiscriminator",
    "SynthesizerTrn",
    "build_discriminators",
    "build_generator",
    "count_parameters",
]


def build_generator(config: Config, symbols: SymbolTable) -> SynthesizerTrn:
    """The generator for ``config``; embedding sizes come from the symbol table it will be trained with."""
    data, model = config.data, config.model
    spec_channels = data.n_mel_channels if model.use_mel_posterior_encoder else data.spec_channels
    return SynthesizerTrn(
        n_symbols=symbols.n_symbols,
        n_tones=symbols.n_tones,
        n_languages=symbols.n_languages,
        spec_channels=spec_channels,
        segment_frames=config.train.segment_size // data.hop_length,
        n_speakers=data.n_speakers,
        hop_length=data.hop_length,
        cfg=model,
    )


@dataclass
class Discriminators:
    """The discriminators, each trained by its own optimiser."""

    mpd: MultiPeriodDiscriminator  # multi-period + scale discriminator (waveform)
    duration: DurationDiscriminator | None  # None when model.use_duration_discriminator is false


def build_discriminators(config: Config) -> Discriminators:
    m = config.model
    mpd = MultiPeriodDiscriminator(
        periods=m.discriminator_periods,
        period_channels=m.period_discriminator_channels,
        period_kernel_size=m.period_discriminator_kernel_size,
        period_stride=m.period_discriminator_stride,
        scale_channels=m.scale_discriminator_channels,
        scale_groups=m.scale_discriminator_groups,
        use_spectral_norm=m.use_spectral_norm,
    )
    duration = None
    if m.use_duration_discriminator:
        duration = DurationDiscriminator(
            m.hidden_channels,
            m.duration_discriminator_filter_channels,
            m.duration_discriminator_kernel_size,
            m.duration_discriminator_dropout,
            gin_channels=m.gin_channels if m.duration_discriminator_speaker_conditioned else 0,
        )
    return Discriminators(mpd=mpd, duration=duration)


def count_parameters(*modules: nn.Module) -> int:
    """Number of parameters (weight-norm magnitudes and directions counted separately, as MeloTTS's are)."""
    return sum(p.numel() for m in modules for p in m.parameters())
