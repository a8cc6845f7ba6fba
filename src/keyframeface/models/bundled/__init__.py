"""The ``bundled`` backend's learned grounding: one folder with its code, training, weights and recipe.

* :mod:`.clauses`: clause splitting; :mod:`.grounding`: unknown clauses rewritten through the head;
  :mod:`.head`: the grounding head (a softmax regression on sentence embeddings) and its ``.npz`` format;
* :mod:`.encoder`: the numpy all-MiniLM-L6-v2 sentence encoder the head reads;
* :mod:`.train` and :mod:`.phrases`: ``keyframeface train bundled`` (numpy alone) and its labelled phrases;
* ``bundled-head.npz`` / ``bundled-head.json``: the shipped weights and their recipe (sha256 checked at load).

See :mod:`keyframeface.backends.bundled` for the backend. Importing this package reads nothing and imports nothing.
"""
