"""wgan_export (the repository's export/ folder): a trained generator -> SavedModel and TFLite.

The top of the one-way chain edge (wgan_edge) <- core (wgan_keras) <- export: it may import both,
neither imports it. `modes` holds the one table of formats and quantization modes, `lib` pure functions,
`tflite`/`qat` the converters, `graph` the passes over converted flatbuffers (exact pixels), `micro`
TensorFlow Lite for Microcontrollers, `report` the fidelity against the Keras generator (its Fréchet
distance is wgan_keras.evaluation's), `main` the thin `wgan-export` binary.
"""
