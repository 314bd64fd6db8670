"""Export a fitted model to C99 source for microcontrollers, and to ONNX.

The exporters live in three modules:

- :mod:`skfastgrnn._export_common`: the one description of the network both
  read (:func:`~skfastgrnn._export_common.describe_network`: the
  classifier's or regressor's parameters as it computes with them, the
  scaler steps folded into one affine map, the cell's scalars), with the
  handling of padded and folded rows they share;
- :mod:`skfastgrnn._export_c`: :func:`export_c`, ``<name>.h`` and ``<name>.c``
  (the loop over the layers of a stack in :mod:`skfastgrnn._export_c_layers`);
- :mod:`skfastgrnn._export_onnx`: :func:`to_onnx`, an ``onnx.ModelProto``.

What differs between cells (the C statements of one step, the ONNX nodes of
the recurrence, the constants, the weights one step makes dead) is written by
the cell's class, next to its maths, in ``skfastgrnn/_cells/<cell>.py``; each
nonlinearity's C and ONNX form is next to its numpy form in
``skfastgrnn/_cells/common.py``. This module keeps the public names
importable from where they always were.
"""

from ._export_c import export_c
from ._export_onnx import ONNX_OPSET, to_onnx

__all__ = ["ONNX_OPSET", "export_c", "to_onnx"]
