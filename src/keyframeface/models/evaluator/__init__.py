"""The text / keyframe-sequence evaluator used by ``keyframeface eval``: code, training, weights and recipe.

* :mod:`.inference`: numpy inference (:class:`~.inference.Evaluator`, :func:`~.inference.load_evaluator`);
* :mod:`.train`: ``keyframeface train evaluator`` (contrastive training with torch, the ``[train]`` extra);
* ``evaluator.npz`` / ``evaluator.json``: the shipped weights and their recipe (sha256 checked at load).

Importing this package imports neither numpy nor torch; import :mod:`.inference` for the evaluator itself.
"""
