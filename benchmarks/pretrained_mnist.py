"""Makes the digit generator shipped in the package: `wk.pretrained("mnist")`, `wgan-sample --model mnist`.

    nice taskset -c 1 python benchmarks/pretrained_mnist.py --workdir runs/pretrained_mnist

1. `wgan-train --preset fast --conditional --generator_iters 6000 --seed 0` on the bundled 4,000 digits
   (about 9 CPU-minutes on one Intel Xeon core with AMX, where the preset trains in bf16);
2. the EMA generator rebuilt under float32 (a bf16 policy would follow it into every user's process) and
   saved alone, without critic or optimizers, to wgan_keras/weights/mnist.keras;
3. `wgan-export --quantize int8` of it to wgan_edge/weights/mnist_int8.tflite (+ .json: classes "0".."9");
4. the check printed at the end: both files' sizes (together at most 2 MB), and the share of 1,000
   samples (100 per class) that the bundled digit classifier assigns to the requested class, Keras and int8.

An existing --workdir is resumed (the same command finishes a stopped run), as wgan-train does.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERAS_FILE = os.path.join(ROOT, "wgan_keras", "weights", "mnist.keras")
TFLITE_FILE = os.path.join(ROOT, "edge", "wgan_edge", "weights", "mnist_int8.tflite")
TRAIN = ["--preset", "fast", "--conditional", "--generator_iters", "6000", "--seed", "0"]
MAX_BYTES = 2 * 1024 * 1024


def command(name):
    return [os.path.join(os.path.dirname(sys.executable), name)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/pretrained_mnist")
    a = parser.parse_args()
    subprocess.run(command("wgan-train") + ["--workdir", a.workdir, *TRAIN], check=True)

    import keras
    import numpy as np

    import wgan_keras as wk
    from wgan_export.load import float32_twin
    from wgan_keras.evaluation import ClassQualityEvaluator, class_scores
    from wgan_keras.evaluation.digits import reference_labels

    gan = keras.saving.load_model(os.path.join(a.workdir, "checkpoint.keras"))
    keras.config.set_dtype_policy("float32")
    generator = float32_twin(gan.sampling_generator)
    config = generator.get_config()
    config.update(name="mnist_generator", dtype="float32")
    shipped = type(generator).from_config(config)
    shipped.set_weights(generator.get_weights())
    shipped.trainable = False
    os.makedirs(os.path.dirname(KERAS_FILE), exist_ok=True)
    shipped.save(KERAS_FILE)
    subprocess.run(command("wgan-export") + ["--checkpoint", KERAS_FILE, "--quantize", "int8", "--out", TFLITE_FILE,
                                             "--overwrite"], check=True)
    with open(os.path.splitext(TFLITE_FILE)[0] + ".json") as f:
        assert '"num_classes": 10' in f.read(), "the metadata must count the classes for wgan-sample"

    sizes = {path: os.path.getsize(path) for path in (KERAS_FILE, TFLITE_FILE)}
    for path, size in sizes.items():
        print(f"{os.path.relpath(path, ROOT)}: {size / 1024:.0f} KiB")
    assert sum(sizes.values()) <= MAX_BYTES, f"together {sum(sizes.values())} bytes, over {MAX_BYTES}"

    from wgan_edge.contract import latent_vectors
    from wgan_edge.runner import TFLiteGenerator
    labels = np.arange(1000, dtype=np.int32) % 10
    keras_images = wk.sample(wk.pretrained("mnist"), 1000, seed=0)  # labels None: the classes in turn
    lite = TFLiteGenerator(TFLITE_FILE)
    z = latent_vectors(1000, 100, 0)
    int8_images = lite(z, labels)["images"]
    scorer = ClassQualityEvaluator()
    for name, images in (("keras", keras_images), ("int8", int8_images)):
        rows = class_scores(images, labels, scorer.extractor, scorer.reference_features, reference_labels(),
                            scorer.classifier)
        print(f"{name}: agreement {rows[-1]['agreement']:.1%}, Fréchet distance {rows[-1]['frechet_distance']:.1f}"
              f", per class " + " ".join(f"{r['agreement']:.0%}" for r in rows[:-1]))


if __name__ == "__main__":
    main()
