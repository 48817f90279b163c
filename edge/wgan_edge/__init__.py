"""wgan-keras-edge: run an exported WGAN generator where TensorFlow is not installed.

The bottom of the one-way dependency chain (edge <- wgan_keras <- wgan_export):
numpy, the standard library and, lazily, ai_edge_litert. Nothing here may import
TensorFlow, Keras or the other two packages (tests/architecture_test.py checks it).
"""
__version__ = "0.3.0"
