"""Training code (needs the ``[train]`` extra: ``pip install 'keyframeface[train]'``, which pins torch).

* :mod:`keyframeface.train.evaluator`: the text / keyframe-sequence evaluator used by ``keyframeface eval``
  (contrastive training, exported to numpy weights; ``keyframeface train evaluator``).

Importing this package does not import torch; each module imports it when it runs.
"""

from __future__ import annotations

__all__: list[str] = []
