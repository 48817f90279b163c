"""Before a TFDS download (`--download`): is the network there at all?

Offline, TFDS retries its mirror and the dataset's own URLs with back-off for minutes (measured: 212 s) and
prints progress bars and urllib3 retry warnings meanwhile (57 lines) before it gives up. One connection to
its mirror, when the data is not prepared yet, tells the same in a moment. Behind a proxy (https_proxy,
all_proxy) a direct connection says nothing, so none is tried; TFDS then answers for itself.
"""
import os

from wgan_edge.cli import ConfigError, first_line

MIRROR = ("storage.googleapis.com", 443)  # where TFDS looks first (its GCS mirror), and many datasets' files
PROXIES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
TIMEOUT_S = 5.0


def check_reachable(config):
    """ConfigError on --download when the data is not prepared and TFDS's mirror cannot be reached."""
    if not config.download or any(os.environ.get(p) for p in PROXIES) or _prepared(config):
        return
    import socket
    try:
        with socket.create_connection(MIRROR, timeout=TIMEOUT_S):
            pass
    except OSError as e:
        raise ConfigError("download", f"cannot reach {MIRROR[0]} ({type(e).__name__}: {first_line(e)[:80]}), so "
                                      f"TFDS cannot download {config.resolved_dataset!r}: this machine looks "
                                      f"offline; ways out: --data_dir DIR with prepared TFDS data, --images FOLDER, "
                                      f"or the bundled --dataset", config.download) from None


def _prepared(config):
    """True when TFDS has the data already (or cannot tell: the loader then says what is wrong)."""
    try:
        from wgan_keras.data.sources import check_tfds_protos
        check_tfds_protos()
        import tensorflow_datasets as tfds
        return tfds.builder(config.resolved_dataset, data_dir=config.data_dir).is_prepared()
    except Exception:  # an unknown name or version: load_tfds refuses it in its own words
        return True
