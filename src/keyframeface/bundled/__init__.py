"""The ``bundled`` backend's learned parts: clause splitting, the grounding head and the grounding itself.

See :mod:`keyframeface.backends.bundled` for the backend and :mod:`keyframeface.train.bundled` for training.
"""
