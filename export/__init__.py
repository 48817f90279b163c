"""wgan_export (the repository's export/ folder): a trained generator -> SavedModel, TFLite, TFLite Micro
and a web page.

The top of the one-way chain edge (wgan_edge) <- core (wgan_keras) <- export: it may import both, neither
imports it. The modules, in the order an export runs them (`pipeline.export`):
`load` -> `fold` -> `endpoint` -> `convert` (its `tfmot` route) -> graph passes over the flatbuffer
(`flatbuffer`, `tail16`, `pixels`) -> `measure` (and `micro`, TFLite Micro) -> gate -> publish (`formats`,
`web`, `owned`); `modes` and `formats` are the two tables, `report` the summary line and the benchmarks'
table, `main` the `wgan-export` flags.
"""
