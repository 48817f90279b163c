"""Datasets for WGAN training: bundled MNIST, TFDS, image folders and 2-D toys."""
