"""int8 copies of the exported graphs: onnxruntime's dynamic quantisation (int8 weights, activations quantised per
call). The encoder's weights get a scale per output channel; the acoustic graphs' one per tensor, because their
attention multiplies by a 3-D relative-position table, whose per-channel zero points onnxruntime's integer
matrix product refuses."""

from __future__ import annotations

import logging
from pathlib import Path

from melo.export.graphs import TWO_GIB

__all__ = ["ENCODER_INT8_OPS", "ACOUSTIC_INT8_OPS", "quantize_graph"]

log = logging.getLogger(__name__)

ENCODER_INT8_OPS = ("MatMul", "Gather")
"""bge-m3: its matrix products, and its 250k-token embedding table (nearly half of its weights)."""
ACOUSTIC_INT8_OPS = ("MatMul", "Conv")
"""The acoustic graphs: 1x1 and k-wide convolutions (the decoder's bulk) and the attention's products."""


def _initializers_behind_identities(source: Path, target: Path) -> Path:
    """A copy of ``source`` where every ``Identity`` of a weight is replaced by a copy of that weight.

    The exporter stores identical weights once and reads the duplicates through ``Identity`` nodes (an untrained
    model's zero-initialised flow projections are all alike); the quantiser then finds a convolution whose weight
    is not a weight and stops. Returns ``source`` itself when there is nothing to replace."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    weights = {w.name: w for w in model.graph.initializer}
    identities = [n for n in model.graph.node if n.op_type == "Identity" and n.input[0] in weights]
    if not identities:
        return source
    for node in identities:
        copy = numpy_helper.from_array(numpy_helper.to_array(weights[node.input[0]]), name=node.output[0])
        model.graph.initializer.append(copy)
        model.graph.node.remove(node)
    onnx.save(model, str(target))
    return target


class _DropPreprocessingAdvice(logging.Filter):
    """onnxruntime's quantiser logs, on the root logger, advice to pre-process every graph; the graphs are checked
    after quantisation instead, so the advice is noise in the export's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def quantize_graph(source: Path, target: Path, ops: tuple[str, ...], per_channel: bool = True) -> Path:
    import onnxruntime.quantization as quantization

    large = source.stat().st_size + sum(p.stat().st_size for p in source.parent.glob(source.name + ".data")) > TWO_GIB
    plain = _initializers_behind_identities(source, target) if not large else source
    advice = _DropPreprocessingAdvice()
    logging.getLogger().addFilter(advice)
    try:
        quantization.quantize_dynamic(
            str(plain), str(target), op_types_to_quantize=list(ops), per_channel=per_channel,
            weight_type=quantization.QuantType.QInt8, use_external_data_format=large,
        )
    finally:
        logging.getLogger().removeFilter(advice)
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
