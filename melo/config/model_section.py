"""Section ``model`` of the config: the networks' shapes and switches, with MeloTTS's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from melo.config.errors import check

__all__ = ["ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """Model shapes and switches (section ``model``). Defaults are MeloTTS's.

    MeloTTS hard-codes many of these in its model code; here each one is a field, with MeloTTS's
    value as the default, so ``configs/config_bge_m3.json`` builds the same architecture.
    """

    use_spk_conditioned_encoder: bool = True
    """Add the speaker embedding inside the text encoder (before layer ``speaker_cond_layer``)."""
    use_noise_scaled_mas: bool = True
    """VITS2 noise on the alignment-search scores, ``mas_noise_scale - mas_noise_scale_delta * step``."""
    use_mel_posterior_encoder: bool = False
    """Feed the posterior encoder a mel spectrogram (``data.n_mel_channels`` bins) instead of the linear one."""
    use_duration_discriminator: bool = True
    """Train the VITS2 duration discriminator."""
    inter_channels: int = 192
    """Latent ``z`` channels (prior, posterior, flow and decoder input)."""
    hidden_channels: int = 192
    filter_channels: int = 768
    """FFN width of the text encoder and of the flow's transformers."""
    n_heads: int = 2
    n_layers: int = 6
    """Text-encoder transformer layers."""
    n_layers_trans_flow: int = 3
    """Transformer layers inside each flow coupling layer."""
    kernel_size: int = 3
    """FFN convolution kernel of the text encoder."""
    p_dropout: float = 0.1
    resblock: Literal["1", "2"] = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 8, 2, 2)
    n_layers_q: int = 3
    """Kept for MeloTTS config compatibility (unused: the posterior encoder uses ``posterior_n_layers``)."""
    use_spectral_norm: bool = False
    """Spectral instead of weight norm in the scale discriminator."""
    gin_channels: int = 256
    """Speaker-embedding size."""
    bert_channels: int = 1024
    """Width of the text features (bge-m3: 1024); one ``Conv1d(bert_channels, hidden_channels, 1)`` projects them."""

    # -- text encoder and flow transformers (MeloTTS hard-codes these) -------------------------
    attention_window_size: int = 4
    """Relative-position attention window (positions -w..w have their own key/value embeddings)."""
    speaker_cond_layer: int = 2
    """Text-encoder layer before which the speaker embedding is added (VITS2: the 3rd block, index 2)."""
    n_flow_layer: int = 4
    """Transformer-coupling layers in the flow (each followed by a channel flip)."""
    flow_kernel_size: int = 5
    """FFN convolution kernel inside the flow's transformers."""
    flow_speaker_cond_layer: int = 2
    """Layer of each flow transformer before which the speaker embedding is added."""

    # -- duration predictors ----------------------------------------------------------------
    duration_predictor_filter_channels: int = 256
    duration_predictor_kernel_size: int = 3
    duration_predictor_dropout: float = 0.5
    sdp_filter_channels: int = 192
    """Stochastic duration predictor width (MeloTTS passes 192 and then overrides it with hidden_channels;
    both are 192)."""
    sdp_kernel_size: int = 3
    sdp_dropout: float = 0.5
    sdp_n_flows: int = 4
    """Spline coupling flows in the stochastic duration predictor (and in its posterior)."""
    sdp_conv_layers: int = 3
    """Dilated depth-separable conv layers in each of its conv stacks."""
    sdp_num_bins: int = 10
    """Bins of each rational-quadratic spline."""
    sdp_tail_bound: float = 5.0
    """The splines act on [-tail_bound, tail_bound]; identity outside."""

    # -- posterior encoder ----------------------------------------------------------------
    posterior_kernel_size: int = 5
    posterior_n_layers: int = 16
    posterior_dilation_rate: int = 1

    # -- alignment search -----------------------------------------------------------------
    mas_noise_scale: float = 0.01
    """Initial VITS2 alignment noise (times the std of the scores)."""
    mas_noise_scale_delta: float = 2e-6
    """Noise decrease per training step (reaches 0 after 5000 steps with the defaults)."""

    # -- discriminators ---------------------------------------------------------------------
    duration_discriminator_filter_channels: int = 192
    """MeloTTS builds it with ``hidden_channels`` (192)."""
    duration_discriminator_kernel_size: int = 3
    duration_discriminator_dropout: float = 0.1
    duration_discriminator_speaker_conditioned: bool = False
    """MeloTTS creates a speaker ``cond`` layer in the duration discriminator but never passes a speaker,
    so it is dead weight; ``true`` builds it and conditions on the (detached) speaker embedding."""
    discriminator_periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_discriminator_channels: tuple[int, ...] = (32, 128, 512, 1024, 1024)
    """Output channels of the period discriminators' five (k x 1) convolutions."""
    period_discriminator_kernel_size: int = 5
    period_discriminator_stride: int = 3
    scale_discriminator_channels: tuple[int, ...] = (16, 64, 256, 1024, 1024, 1024)
    """Output channels of the scale discriminator's six convolutions."""
    scale_discriminator_groups: tuple[int, ...] = (1, 4, 16, 64, 256, 1)
    """Groups of those convolutions (each must divide its input and output channels)."""

    def __post_init__(self) -> None:
        for name in ("inter_channels", "hidden_channels", "filter_channels", "n_heads", "n_layers",
                     "n_layers_trans_flow", "kernel_size", "upsample_initial_channel", "gin_channels",
                     "bert_channels", "n_flow_layer", "flow_kernel_size", "duration_predictor_filter_channels",
                     "duration_predictor_kernel_size", "sdp_filter_channels", "sdp_kernel_size", "sdp_n_flows",
                     "sdp_conv_layers", "sdp_num_bins", "posterior_kernel_size", "posterior_n_layers",
                     "posterior_dilation_rate", "duration_discriminator_filter_channels",
                     "duration_discriminator_kernel_size", "period_discriminator_kernel_size",
                     "period_discriminator_stride"):
            check(getattr(self, name) > 0, f"model.{name}", "must be > 0")
        check(self.hidden_channels % self.n_heads == 0, "model.hidden_channels", "must be divisible by n_heads")
        check(self.inter_channels % 2 == 0, "model.inter_channels", "must be even (the flow splits it in halves)")
        for name in ("p_dropout", "duration_predictor_dropout", "sdp_dropout", "duration_discriminator_dropout"):
            check(0 <= getattr(self, name) < 1, f"model.{name}", "must be in [0, 1)")
        check(self.attention_window_size >= 0, "model.attention_window_size", "must be >= 0")
        check(
            0 <= self.speaker_cond_layer < self.n_layers,
            "model.speaker_cond_layer",
            f"must be in [0, n_layers={self.n_layers})",
        )
        check(
            0 <= self.flow_speaker_cond_layer < self.n_layers_trans_flow,
            "model.flow_speaker_cond_layer",
            f"must be in [0, n_layers_trans_flow={self.n_layers_trans_flow})",
        )
        check(self.sdp_tail_bound > 0, "model.sdp_tail_bound", "must be > 0")
        check(self.mas_noise_scale >= 0, "model.mas_noise_scale", "must be >= 0")
        check(self.mas_noise_scale_delta >= 0, "model.mas_noise_scale_delta", "must be >= 0")
        check(
            len(self.upsample_rates) == len(self.upsample_kernel_sizes),
            "model.upsample_kernel_sizes",
            "needs one kernel per upsample rate",
        )
        check(
            all(k >= r and (k - r) % 2 == 0 for k, r in zip(self.upsample_kernel_sizes, self.upsample_rates)),
            "model.upsample_kernel_sizes",
            "each kernel must be >= its rate and differ from it by an even number (exact upsampling)",
        )
        check(
            self.upsample_initial_channel % (2 ** len(self.upsample_rates)) == 0,
            "model.upsample_initial_channel",
            f"must be divisible by 2**{len(self.upsample_rates)} (channels halve at each upsampling)",
        )
        check(
            len(self.resblock_kernel_sizes) == len(self.resblock_dilation_sizes),
            "model.resblock_dilation_sizes",
            "needs one dilation list per resblock kernel",
        )
        check(len(self.discriminator_periods) > 0 and all(p > 0 for p in self.discriminator_periods),
               "model.discriminator_periods", "must be a non-empty list of positive periods")
        check(len(self.period_discriminator_channels) == 5 and all(c > 0 for c in self.period_discriminator_channels),
               "model.period_discriminator_channels", "must be 5 positive channel counts")
        check(len(self.scale_discriminator_channels) == 6 and all(c > 0 for c in self.scale_discriminator_channels),
               "model.scale_discriminator_channels", "must be 6 positive channel counts")
        check(len(self.scale_discriminator_groups) == 6, "model.scale_discriminator_groups", "must be 6 group counts")
        c_in = 1
        for i, (c, g) in enumerate(zip(self.scale_discriminator_channels, self.scale_discriminator_groups)):
            check(g > 0 and c_in % g == 0 and c % g == 0, "model.scale_discriminator_groups",
                   f"entry {i} ({g}) must divide the conv's input ({c_in}) and output ({c}) channels")
            c_in = c

    def mas_noise_scale_at(self, step: int) -> float:
        """VITS2 alignment noise at training ``step`` (0 when ``use_noise_scaled_mas`` is off)."""
        if not self.use_noise_scaled_mas:
            return 0.0
        return max(self.mas_noise_scale - self.mas_noise_scale_delta * step, 0.0)

