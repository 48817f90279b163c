"""Class labels of a conditional WGAN: its class count, and the labels `generate` draws for."""
import numpy as np


def find_num_classes(generator, critic, num_classes=None):
    """`num_classes`, else the generator's; the critic must agree. None: an unconditional pair."""
    from wgan_keras.models.common import check_num_classes  # Keras: loaded with the models, not on import
    if num_classes is None:
        num_classes = getattr(generator, "num_classes", None)
    num_classes = check_num_classes(num_classes)
    if num_classes is not None and not hasattr(critic, "num_classes") and not takes_labels(critic):
        raise ValueError(f"num_classes: the generator is for {num_classes} classes but the critic "
                         f"({type(critic).__name__}) takes no labels, so it would judge every class alike; build it "
                         f"with num_classes={num_classes} (e.g. DCGANCritic(..., num_classes={num_classes}))")
    theirs = getattr(critic, "num_classes", num_classes)
    if theirs != num_classes:
        raise ValueError(f"num_classes: the generator is for {num_classes} classes but the critic for {theirs}; "
                         f"build both with the same num_classes")
    return num_classes


def takes_labels(critic):
    """False for a critic of no num_classes of its own that provably takes one input (a Sequential, a
    functional model of one input): it cannot see the labels. A subclassed critic is trusted."""
    import keras
    if isinstance(critic, keras.Sequential):
        return False
    inputs = getattr(critic, "_inputs_struct", None) if isinstance(critic, keras.Model) else None
    return inputs is None or len(keras.tree.flatten(inputs)) > 1


def sample_labels(num_classes, labels, n):
    """Labels for n samples as int32 (n,): one class for all, n classes, or None (the classes in turn:
    0, 1, ..., num_classes - 1, 0, ..., so each is drawn equally often). None for an unconditional model."""
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels: this WGAN is unconditional (num_classes=None); it takes no labels")
        return None
    if labels is None:
        return np.arange(n, dtype="int32") % num_classes
    values = np.asarray(labels)
    if values.dtype.kind not in "iu" or values.ndim > 1 or (values.ndim == 1 and len(values) != n):
        raise ValueError(f"labels must be one int class or {n} of them, got labels={labels!r:.60}")
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}], got labels={labels!r:.60}")
    return np.broadcast_to(values.astype("int32"), (n,)).copy()
