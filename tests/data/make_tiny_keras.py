"""Writes tiny_keras.weights.h5, the fixture of src/train/hdf5.rs's tests: HDF5 as h5py writes
Keras weight files (superblock 0, symbol-table groups, contiguous float32 datasets), with
known values, nested groups, a group whose members span several symbol-table nodes, and one
int32 dataset (refused when read as weights).

    python3 -m pip install h5py numpy && python3 tests/data/make_tiny_keras.py
"""
import h5py
import numpy as np

with h5py.File("tests/data/tiny_keras.weights.h5", "w", libver="earliest") as f:
    # A VGG-like layer: kernel HWIO (3, 3, 3, 2) holding 0, 1, 2, ... and a bias.
    conv = f.create_group("block1/layers/conv2d/vars")
    conv["0"] = np.arange(3 * 3 * 3 * 2, dtype=np.float32).reshape(3, 3, 3, 2)
    conv["1"] = np.array([0.5, -0.25], dtype=np.float32)
    # 20 members: more than one symbol-table node holds (8 by default).
    many = f.create_group("many")
    for i in range(20):
        many[f"d{i:02}"] = np.full((2,), i, dtype=np.float32)
    f["counts"] = np.arange(4, dtype=np.int32)

# The same kind of file after a 512-byte user block (the superblock, and the base address all
# other addresses count from, at 512).
with h5py.File("tests/data/tiny_userblock.h5", "w", libver="earliest", userblock_size=512) as f:
    f["w"] = np.array([1.5, -2.0, 3.25], dtype=np.float32)
