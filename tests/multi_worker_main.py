"""One worker of the MultiWorkerMirroredStrategy test: `python multi_worker_main.py OUT_DIR`.

TF_CONFIG names the cluster and this worker. Trains a seeded tiny WGAN for a few
steps, writes its weights to OUT_DIR/worker<i>.npz; the chief also writes the checkpoint.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

import wgan_keras as wk  # noqa: E402
from wgan_keras.distribute import make_strategy  # noqa: E402

out = sys.argv[1]
index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
strategy = make_strategy("multi_worker")  # first: it must see the cluster before other TF work
keras.utils.set_random_seed(0)
with strategy.scope():
    gan = wk.WGAN(wk.DCGANCritic((28, 28, 1), base_filters=4), wk.DCGANGenerator(8, (28, 28, 1), base_filters=4),
                  seed=0)
    gan.compile()
x = np.random.RandomState(0).uniform(-1, 1, (16 * 5 * 2, 28, 28, 1)).astype("float32")
history = gan.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history
np.savez(os.path.join(out, f"worker{index}.npz"), *[np.asarray(v) for v in gan.weights],
         generator_iterations=int(gan.generator_iterations.numpy()), w_distance=history["w_distance"][-1])
if index == 0:  # the chief writes the checkpoint
    gan.save(os.path.join(out, "checkpoint.keras"))
