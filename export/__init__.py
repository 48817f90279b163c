"""Generator export (SavedModel, TFLite) and the TensorFlow-free edge sampler.

This package's `__init__` imports nothing heavy: `export.png`, `export.atomic`
and `export.sample` must load on a board that has numpy and ai_edge_litert only.
"""
