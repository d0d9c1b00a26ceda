"""Relax the fixed batch and input size of a YOLOX ONNX export, in memory.

The bundled YOLOX-nano export declares input [1, 3, 416, 416] and ends in Reshape([1, 85, -1]).
Its convolutions and the Focus slicing work at any size that is a multiple of 32 and any batch,
so declaring the input dimensions symbolic and letting the reshape copy the batch (0 instead
of 1) gives one model that runs a batch of cameras, or a larger input, in one call. Needs the
`onnx` package; without it the model stays as exported.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("lookout.detectors")

HEAD_RESHAPE = [1, 85, -1]


def relax_yolox(path: Path) -> bytes | None:
    """The model with symbolic batch/height/width, or None when it cannot be relaxed."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        log.info("onnx not installed: %s keeps its exported batch and input size", path.name)
        return None
    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        return None
    reshapes = [
        init for init in model.graph.initializer
        if init.dims == [3] and numpy_helper.to_array(init).tolist() == HEAD_RESHAPE
    ]
    if not reshapes:
        log.info("%s has no [1, 85, -1] head reshape: keeping its exported shapes", path.name)
        return None
    for dim, name in zip(dims, ("batch", None, "height", "width")):
        if name:
            dim.dim_param = name
    for out in model.graph.output:
        for dim, name in zip(out.type.tensor_type.shape.dim, ("batch", "anchors")):
            dim.dim_param = name
    # Shapes the exporter inferred for inner tensors are those of 416x416: drop them so ONNX
    # Runtime infers them again (else it warns on every run at another size).
    del model.graph.value_info[:]
    for init in reshapes:
        # Reshape's 0 copies the input's dimension: the batch passes through.
        init.CopyFrom(numpy_helper.from_array(np.array([0, 85, -1], np.int64), init.name))
    return model.SerializeToString()
