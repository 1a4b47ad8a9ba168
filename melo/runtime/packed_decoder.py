"""A fused, channels-last CPU runner for a trained HiFi-GAN :class:`~melo.model.decoder.Generator`.

Why: on CPU the decoder is ~90% of synthesis time, and PyTorch's eager ``Conv1d`` spends much of it outside
the arithmetic. Every call reorders its input from the plain (N, C, L) layout into oneDNN's blocked layout
and its output back; for the 16-64 channel stages at 44.1 kHz those copies cost more than the convolution.
Autocast adds a weight cast per call, and each leaky ReLU / residual add is its own pass over memory.

What: the same network, computed as 2-D convolutions over (N, C, 1, L) tensors in channels-last layout
(oneDNN's native "nhwc" for bf16 and fp32, so no reorders), with the weights cast and laid out once, the
leaky ReLU between the two convolutions of a residual pair fused into the first one, and the residual add
fused into the second (in place). The average over resblocks is folded into the next layer's weights
(leaky ReLU is positively homogeneous, so ``conv(lrelu(s / n)) == (conv / n)(lrelu(s))``).

Every layer runs over fixed-width tiles of positions, so the convolution shapes do not depend on the
sentence length: oneDNN compiles kernels for a handful of widths once (``PackedDecoder.warmup``), instead
of ~65 kernels (~0.1 s on 2 cores) for every new length, and the weights are kept reordered for each width.

Same math as ``Generator.forward``: in fp32 the outputs agree to float rounding (tested); in bf16 the
activations and weights are bf16, and in the int8 form (``PackedDecoder(generator, torch.int8)``) the wide stages'
convolutions take int8 weights and per-call uint8 inputs; the relative waveform error against fp32 of both is
measured in ``benchmarks/bench_infer.py``. Inference only (no autograd), CPU only; built from folded weights, so build
it after :func:`melo.runtime.engine.prepare_model` and rebuild it if the weights change.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, replace

import torch

from melo.model.commons import LRELU_SLOPE
from melo.model.decoder import Generator, ResBlock1, ResBlock2
from melo.runtime import cpu
from melo.runtime.packed_conv import CHANNELS_LAST, Conv, QConv

__all__ = ["INT8_MIN_CHANNELS", "PackedDecoder", "packed_decoder_supported"]

log = logging.getLogger(__name__)

_FINAL_SLOPE = 0.01  # HiFi-GAN's last activation uses F.leaky_relu's default slope
# PackedDecoder(int8): the stages with at least this many channels run int8. Below it, quantizing each input costs
# about what the int8 arithmetic saves. Full decoder, 2.36 s of audio, 2 cores with AVX512-VNNI, s per s of audio:
# int8 from 32 channels 0.123, from 64 0.120, from 128 0.124; all bf16 0.146.
INT8_MIN_CHANNELS = 64


def packed_decoder_supported(device: torch.device | str, dtype: torch.dtype) -> bool:
    """Whether :class:`PackedDecoder` can run here: CPU with oneDNN, fp32, bf16 (needs CPU support) or int8
    (needs oneDNN's quantized convolutions and a CPU with VNNI)."""
    return torch.device(device).type == "cpu" and cpu.convolutions_supported(dtype)


class _Signal:
    """``n`` rows of a C-channel signal between zero margins: a (1, C, 1, margin + n + margin) channels-last
    buffer (row-major (position, channel) in memory), with views of any run of rows."""

    __slots__ = ("data", "channels", "margin", "flat")

    def __init__(self, channels: int, n: int, margin: int, storage: torch.Tensor) -> None:
        """``storage``: a flat tensor of ``channels * (n + 2 * margin)`` elements that holds the signal."""
        self.channels, self.margin = channels, margin
        self.data = storage.view(1, 1, n + 2 * margin, channels).permute(0, 3, 1, 2)
        self.data[..., :margin] = 0
        self.data[..., margin + n :] = 0
        self.flat = self.data.permute(0, 2, 3, 1).reshape(-1)  # a view: the rows back to back

    def rows(self, start: int, count: int) -> torch.Tensor:
        """Rows [start, start + count) (``start`` >= -margin) as a (1, C, 1, count) channels-last tensor. The
        strides are the canonical ones for that shape whatever the buffer's length, so oneDNN sees the same
        memory layout, and reuses the same compiled kernel, for every tile of that width."""
        c = self.channels
        return self.data.as_strided((1, c, 1, count), (c * count, 1, c * count, c), self.data.storage_offset() + (start + self.margin) * c)

    def window(self, tile: "_Tile", halo: int) -> torch.Tensor:
        """The rows a layer with ``halo`` reads to compute ``tile``'s rows."""
        return self.rows(tile.start - halo, tile.width + 2 * halo)


@dataclass(frozen=True)
class _Tile:
    start: int  # first row
    width: int  # rows


def _tiles(granules: int, granule: int, per_tile: int) -> list[_Tile]:
    """Cover ``granules * granule`` rows with tiles of ``per_tile`` granules and, for the rest, one tile per
    set bit of the remainder (per_tile is a power of 2), so every tile has one of log2(per_tile) + 1 widths."""
    tiles, start = [], 0
    for _ in range(granules // per_tile):
        tiles.append(_Tile(start, per_tile * granule))
        start += per_tile * granule
    rest, bit = granules % per_tile, per_tile // 2
    while rest:
        if rest >= bit:
            tiles.append(_Tile(start, bit * granule))
            start += bit * granule
            rest -= bit
        bit //= 2
    return tiles


class PackedDecoder:
    """``PackedDecoder(generator, dtype)(z, g)`` == ``generator(z, g)`` computed the fast way (see module doc).

    ``dtype``: ``torch.float32`` (exact to rounding), ``torch.bfloat16`` (CPUs with bf16 support) or ``torch.int8``:
    the stages with at least ``INT8_MIN_CHANNELS`` channels (their upsampling layer and residual blocks; ~85% of
    the arithmetic of HiFi-GAN v1) run int8 convolutions over fp32 signals, the rest in bf16 where the CPU has it
    (else fp32). Needs a CPU with VNNI. Measured in ``benchmarks/bench_infer.py``: int8 convolutions run at ~2x
    bf16's rate, and on random weights its error is of the order of bf16's; on a trained voice, listen before you
    ship it.
    ``bucket``: the granule in frames: inputs are zero-padded to a multiple of it, and every tile is a whole
    number of granules. ``tile_granules``: granules in a full tile (a power of 2; 32 x 8 frames is ~3 s of
    audio); the rest of a signal is covered by one tile per set bit of its granule count, so each layer runs
    on one of log2(tile_granules) + 1 widths (see ``__call__``). 0: no tiling, every layer runs over the whole
    signal with the plain weights (the baseline of ``benchmarks/bench_decoder_lengths.py``)."""

    def __init__(self, generator: Generator, dtype: torch.dtype = torch.bfloat16, bucket: int = 8,
                 tile_granules: int = 32) -> None:
        if not packed_decoder_supported("cpu", dtype):
            need = {torch.bfloat16: " and bf16 support",
                    torch.int8: " and quantized convolutions (and a CPU with VNNI)"}.get(dtype, "")
            raise RuntimeError(f"PackedDecoder needs a CPU PyTorch build with oneDNN{need}")
        device = next(generator.parameters()).device
        if device.type != "cpu":
            raise ValueError(f"PackedDecoder runs on CPU only; the generator is on {device}")
        if any(hasattr(m, "parametrizations") for m in generator.modules()):
            raise ValueError("fold weight norm first (melo.runtime.engine.prepare_model / remove_weight_norm)")
        if bucket < 1:
            raise ValueError(f"bucket must be >= 1 frame, got {bucket}")
        if tile_granules < 0 or tile_granules & (tile_granules - 1):
            raise ValueError(f"tile_granules must be a power of 2 (or 0: untiled), got {tile_granules}")
        self.int8 = dtype == torch.int8
        self.dtype = (torch.bfloat16 if cpu.has_bf16() else torch.float32) if self.int8 else dtype  # the float layers'
        self.bucket = bucket
        self.tile_granules = tile_granules
        self.rates = [int(up.stride[0]) for up in generator.ups]
        n = generator.num_kernels
        self.num_kernels = n
        dtype = self.dtype
        self.pre = Conv.of(generator.conv_pre, dtype)
        self.cond = Conv.of(generator.cond, dtype) if hasattr(generator, "cond") else None
        # int8 stages: fp32 signals; their layers are built in fp32 and quantized
        quantized = [self.int8 and up.out_channels >= INT8_MIN_CHANNELS for up in generator.ups]
        self.signal_dtypes = [torch.float32 if q else dtype for q in quantized]
        self.ups, self.stages = [], []
        for i, (up, q) in enumerate(zip(generator.ups, quantized)):
            def layer(build, module, *args, q=q):
                return QConv.quantized(build(module, torch.float32, *args)) if q else build(module, dtype, *args)

            # the resblock average (sum / n) feeds the next upsampling layer and conv_post: fold 1/n into them
            # raises ValueError for upsampling geometries other than HiFi-GAN's (kernel - 2 * padding == stride)
            self.ups.append(layer(Conv.polyphase, up, 1.0 if i == 0 else 1.0 / n))
            blocks = []
            for block in generator.resblocks[i * n : (i + 1) * n]:
                if isinstance(block, ResBlock1):
                    blocks.append([(layer(Conv.of, c1), layer(Conv.of, c2)) for c1, c2 in zip(block.convs1, block.convs2)])
                elif isinstance(block, ResBlock2):
                    blocks.append([(layer(Conv.of, c), None) for c in block.convs])
                else:
                    raise TypeError(f"unsupported resblock {type(block).__name__}")
            self.stages.append(blocks)
        self.post = Conv.of(generator.conv_post, dtype, 1.0 / n)
        if not tile_granules:  # widths follow the sentence length: keep no reordered weights
            plain = functools.partial(replace, packed=None)
            self.pre, self.post, self.ups = plain(self.pre), plain(self.post), [plain(up) for up in self.ups]
            self.stages = [[[(plain(c1), c2 and plain(c2)) for c1, c2 in pairs] for pairs in blocks] for blocks in self.stages]
        # zero rows each side of every signal: the widest window any tile reads past its edge
        halos = [self.pre.halo, self.post.halo] + [up.halo for up in self.ups]
        halos += [c1.halo + (c2.halo if c2 else 0) for blocks in self.stages for pairs in blocks for c1, c2 in pairs]
        self.margin = max(halos)
        # The signals' memory, kept between calls by role (see ``_signal``), and the lock that guards it.
        self._buffers: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()
        log.debug("packed HiFi-GAN decoder for %s%s (%d stages; tiles of %d frames)", dtype,
                  f" + int8 ({sum(quantized)} stages)" if self.int8 else "",
                  len(self.stages), tile_granules * bucket)

    def _convs(self) -> list[Conv]:
        return [self.pre, self.post, *self.ups,
                *(c for blocks in self.stages for pairs in blocks for pair in pairs for c in pair if c is not None)]

    def warmup(self) -> None:
        """Run once over a length that has a tile of every width at every stage, so that oneDNN has compiled
        every kernel the decoder will ever use (~1.3 s for the full-size decoder on 2 cores)."""
        granules = 2 * max(self.tile_granules, 1) - 1  # a full tile and every remainder bit
        z = torch.zeros(1, self.pre.weight.shape[1], granules * self.bucket)
        g = None if self.cond is None else torch.zeros(1, self.cond.weight.shape[1], 1)
        self(z, g)

    @torch.inference_mode()
    def __call__(self, z: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, C, T) latent frames, g: (B, gin, 1) speaker embedding -> (B, 1, T * hop) float32 waveform.

        Every layer runs tile by tile over fixed-width runs of rows (positions), so oneDNN compiles its kernels
        for a handful of widths once, instead of for every new sentence length (~0.1 s per new length on 2
        cores). A tile reads its rows plus the layer's halo from zero-margined buffers, and writes its rows in
        place. The frames are zero-padded up to a multiple of ``bucket`` (tiles are made of whole granules);
        the padding does not change the result: after every layer the rows past the real length are set back
        to zero, which is exactly the zero padding the unpadded convolutions see."""
        with self._lock:  # one call at a time: the signals' memory is shared between calls
            items = [self._decode(z[i : i + 1], None if g is None else g[i : i + 1]) for i in range(z.shape[0])]
        return torch.stack(items).unsqueeze(1)

    def _signal(self, role: str, channels: int, n: int, dtype: torch.dtype | None = None) -> _Signal:
        """A signal held in the memory kept for ``role`` (grown when too small).

        A decode passes ~100 MB of signals through the allocator per 3 s of audio. Freshly allocated, much of
        that memory comes back from the kernel as new pages whose first touch faults (~2.7 us per 4 KiB page
        here: 13-40 ms per sentence between the other stages of synthesis, 4-6% of the decoder). Kept, the
        pages stay mapped. Costs the memory of 7 signals of the longest sentence decoded so far (~35 MB at
        3.5 s of audio in bf16, ~70 MB in the int8 form, whose wide stages keep fp32 signals; ``release()``
        frees it). The memory is kept as bytes, so a role's fp32 and bf16 signals (different stages) share it."""
        dtype = dtype or self.dtype
        size = channels * (n + 2 * self.margin)
        nbytes = size * dtype.itemsize
        buffer = self._buffers.get(role)
        if buffer is None or buffer.numel() < nbytes:
            buffer = self._buffers[role] = torch.empty(nbytes, dtype=torch.uint8)
        return _Signal(channels, n, self.margin, buffer[:nbytes].view(dtype))

    def release(self) -> None:
        """Free the memory kept for the signals (it is taken again by the next call)."""
        with self._lock:
            self._buffers.clear()

    def _decode(self, z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        """One item: z (1, C, T) -> (T * hop,) float32."""
        dtype, lrelu_ = self.dtype, torch.nn.functional.leaky_relu_
        frames = z.shape[-1]
        count = -(-frames // self.bucket)  # granules
        n, valid = count * self.bucket, frames
        src = self._signal("up", z.shape[1], n)  # roles: the signals alive at the same time never share one
        src.rows(0, frames).copy_(z.unsqueeze(2))
        src.rows(frames, n - frames).zero_()
        x = self._signal("sum0", self.pre.weight.shape[0], n)  # stage s reads sum{(s - 1) % 2}, writes sum{s % 2}
        tiles = _tiles(count, self.bucket, self.tile_granules) if self.tile_granules else [_Tile(0, n)]
        for t in tiles:
            x.rows(t.start, t.width).copy_(self.pre.valid(src.window(t, self.pre.halo)))
        if g is not None and self.cond is not None:
            x.rows(0, valid).add_(self.cond.valid(g.unsqueeze(2).to(dtype).contiguous(memory_format=CHANNELS_LAST)))
        x.rows(valid, n - valid).zero_()
        lrelu_(x.data, LRELU_SLOPE)  # the margins stay zero

        for stage, (up, blocks, rate, sd) in enumerate(zip(self.ups, self.stages, self.rates, self.signal_dtypes), start=1):
            channels = up.weight.shape[0] // up.phases
            n, valid = n * rate, valid * rate
            final = stage == len(self.stages)
            # the upsampled signal and lrelu of it (every block's first layer reads it), tile by tile
            x, x_act = self._upsample(up, x, tiles, rate, n, valid, sd), self._signal("act", channels, n, sd)
            tiles = [_Tile(t.start * rate, t.width * rate) for t in tiles]  # the same tiles at the new rate
            for t in tiles:
                torch.ops.aten.leaky_relu.out(x.rows(t.start, t.width), LRELU_SLOPE, out=x_act.rows(t.start, t.width))
            total = self._signal(f"sum{stage % 2}", channels, n, sd)  # block 0's residual stream, then the sum of all blocks
            stream = self._signal("stream", channels, n, sd) if len(blocks) > 1 else None  # blocks 1.. (one at a time)
            acts = (self._signal("act0", channels, n, sd), self._signal("act1", channels, n, sd))  # ping-pong lrelu(y)
            for b, pairs in enumerate(blocks):
                y = total if b == 0 else stream
                act = x_act
                for j, (c1, c2) in enumerate(pairs):
                    last = j == len(pairs) - 1
                    out = None if last else acts[0] if act is not acts[0] else acts[1]
                    for t in tiles:
                        rows = y.rows(t.start, t.width)
                        if j == 0:
                            rows.copy_(x.rows(t.start, t.width))  # the stream starts at x
                        self._residual(c1, c2, act, rows, t, valid)
                        if t.start + t.width > valid:  # clip: the padding rows stay zero
                            y.rows(max(t.start, valid), t.start + t.width - max(t.start, valid)).zero_()
                        if out is not None:  # the next layer's input, while the tile is in cache
                            torch.ops.aten.leaky_relu.out(rows, LRELU_SLOPE, out=out.rows(t.start, t.width))
                        elif b > 0:
                            total.rows(t.start, t.width).add_(rows)
                        if last and b == len(blocks) - 1:  # the stage's sum is done: activate it for the next layer
                            lrelu_(total.rows(t.start, t.width), _FINAL_SLOPE if final else LRELU_SLOPE)
                    act = out
            x = total  # the sum, activated (1/n is folded into the next layer)

        wave = torch.empty(n, dtype=dtype)
        for t in tiles:
            wave[t.start : t.start + t.width] = self.post.valid(x.window(t, self.post.halo)).reshape(-1)
        return torch.tanh(wave[:valid].float())

    def _upsample(self, up: Conv, x: _Signal, tiles: list[_Tile], rate: int, n: int, valid: int,
                  dtype: torch.dtype) -> _Signal:
        """The polyphase upsampling layer over ``x`` (activated), tile by tile, into a new ``dtype`` signal of ``n``
        rows."""
        channels = up.weight.shape[0] // up.phases
        out = self._signal("up", channels, n, dtype)
        row = rate * channels
        for t in tiles:
            y = up.valid(x.window(t, up.halo))  # (1, rate * C, 1, width (+ 1))
            # the tile's signal: rows [start * rate, (start + width) * rate), one run in memory (see polyphase)
            begin = (self.margin + t.start * rate) * channels
            out.flat[begin : begin + t.width * row].copy_(y.permute(0, 2, 3, 1).reshape(-1)[up.lead * channels : up.lead * channels + t.width * row])
        out.rows(valid, n - valid).zero_()
        return out

    @staticmethod
    def _residual(c1: Conv, c2: Conv | None, act: _Signal, rows: torch.Tensor, t: _Tile, valid: int) -> None:
        """``rows += c2(lrelu(c1(act)))`` (ResBlock1) or ``rows += c1(act)`` (ResBlock2) for tile ``t``."""
        if c2 is None:
            c1.add_valid_(rows, act.window(t, c1.halo))
            return
        # c1 over the tile and c2's halo (those 2 * halo rows are recomputed by the neighbouring tiles)
        h = c2.halo
        inner = c1.valid(act.window(t, h + c1.halo), slope=LRELU_SLOPE)
        lo = t.start - h  # inner's first row; rows outside [0, valid) must be zeros (c2's zero padding)
        if lo < 0:
            inner[..., : -lo] = 0
        if lo + inner.shape[-1] > valid:
            inner[..., max(0, valid - lo) :] = 0
        c2.add_valid_(rows, inner)

