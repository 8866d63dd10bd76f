"""Measuring video: reconstruction metrics, evaluator networks, Fréchet distances."""
