"""The models keyframeface ships: one folder per model, with its code, training, weights and recipe together."""
