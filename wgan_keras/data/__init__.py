"""Datasets for WGAN training: bundled MNIST, TFDS, image folders and 2-D toys."""
from wgan_keras.data.labels import load_bundled_labeled, load_class_folders, load_labeled_data  # noqa: E402
from wgan_keras.data.pipeline import check_array, epoch_dataset, epochs_dataset, scale_images, steps_per_epoch
from wgan_keras.data.sources import BUNDLED, load_bundled, load_data, load_folder, load_tfds
from wgan_keras.data.toys import TOY_SIGMA, TOYS, sample_toy, toy_centers
