"""The ``keyframeface`` command: a thin shell over the public API (one subcommand per API function)."""
