"""wgan_export (the repository's export/ folder): a trained generator -> SavedModel and TFLite.

The top of the one-way chain edge (wgan_edge) <- core (wgan_keras) <- export: it may import both,
neither imports it. `lib` holds pure functions, `tflite`/`qat` the converters, `graph` the passes over converted
flatbuffers (exact pixels), `micro` TensorFlow Lite for Microcontrollers, `quality` the Fréchet distance, `report` the
fidelity measurements, `main` the thin `wgan-export` binary.
"""
