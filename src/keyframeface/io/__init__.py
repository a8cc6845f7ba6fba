"""Readers and writers. Each format lives in its own module; :mod:`keyframeface.io.registry` looks them up."""
