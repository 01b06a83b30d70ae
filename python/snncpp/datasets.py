"""Tonic's SHD, SSC, NMNIST and DVSGesture datasets on files already on disk.

Each class is a subclass of Tonic's, with its constructor signature, attributes (sensor_size,
dtype, ordering, classes, ...) and folder layout under ``save_to/<ClassName>/``, and items
``(events, target)`` equal to Tonic's: the same structured dtype, values, order of samples and
target. They never download: when the files are missing they raise FileNotFoundError naming
the path they expect and where to get the files (``tonic.datasets.<Name>(save_to)`` downloads
them into the same layout, once).

- SHD / SSC: ``save_to/SHD/shd_{train,test}.h5`` (``save_to/SSC/ssc_{train,valid,test}.h5``),
  read by snn.cpp's HDF5 reader (t = trunc(float64(time) · 1e6) µs, as Tonic). The zip
  archives Tonic downloads beside them are not needed.
- NMNIST: ``save_to/NMNIST/{Train,Test}/<digit>/*.bin``, read by snn.cpp's N-MNIST reader;
  first_saccade_only and stabilize as in Tonic (stabilize is Tonic's own NumPy function).
- DVSGesture: ``save_to/DVSGesture/ibmGestureTrain/userXX_<lighting>/<class>.npy`` (and
  ibmGestureTest): Tonic 1.7.0 reads a preprocessed copy of the dataset (gestures cut into one
  .npy each, columns x, y, p, t in milliseconds), not the original AEDAT recordings; its
  samples are read with Tonic's own code (np.load, t · 1000), which snn.cpp has nothing to add
  to. The samples come in Tonic's order, which is the file system's order of the user folders
  and files (os.walk), as in Tonic. For the original recordings (µs timestamps) see
  ``snncpp.io.read_dvs_gesture``.

Transforms are applied as in Tonic (transform, target_transform, and for NMNIST and DVSGesture
transforms on both); snncpp.transforms make them fast.
"""
from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np
import tonic.datasets as _td
from tonic.dataset import Dataset as _TonicDataset

from . import ops
from .io import _structured, read_mnist_file

__all__ = ["SHD", "SSC", "NMNIST", "DVSGesture"]


def _missing(name: str, path: str, what: str, source: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"snncpp.datasets.{name}: {what} not found: expected {path}. snncpp does not download "
        f"datasets: {source}, or run tonic.datasets.{name}(save_to=...) once, which downloads "
        f"into the same layout.")


# ---- SHD / SSC -------------------------------------------------------------------------------

class _HSD:
    """SHD and SSC: one HDF5 file per split, read by snn.cpp."""

    def _open(self, url: str) -> None:
        path = os.path.join(self.location_on_system, self.data_filename)
        if not os.path.isfile(path):
            raise _missing(type(self).__name__, path, "the HDF5 file",
                           f"download {url} and unzip it into {self.location_on_system}")
        self._path = path
        labels, speakers, keys = ops.shd_info(path)
        self._labels = labels
        self.classes = np.array([k.encode() for k in keys])
        self._speaker = np.array(speakers)

    def __getitem__(self, index):
        n = len(self._labels)
        i = int(index)
        if i < -n or i >= n:
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {n} samples")
        events, label = ops.shd_read(self._path, i % n)
        events = _structured(events[:, 0], events[:, 1], None, events[:, 3], self.dtype,
                             type(self).__name__)
        target = np.int64(label)  # Tonic: file["labels"][index].astype(int)
        if self.transform is not None:
            events = self.transform(events)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return events, target

    def __len__(self):
        return len(self._labels)


class SHD(_HSD, _td.SHD):
    """Tonic's SHD (Spiking Heidelberg Digits) on ``save_to/SHD/shd_{train,test}.h5``."""

    def __init__(self, save_to: str, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None):
        _TonicDataset.__init__(self, save_to, transform=transform,
                               target_transform=target_transform)
        self.train = train
        zip_name = self.train_zip if train else self.test_zip
        self.url = self.base_url + zip_name
        self.filename = zip_name
        self.file_md5 = self.train_md5 if train else self.test_md5
        self.data_filename = zip_name[:-4]
        self._open(self.url)


class SSC(_HSD, _td.SSC):
    """Tonic's SSC (Spiking Speech Commands) on ``save_to/SSC/ssc_{train,valid,test}.h5``."""

    def __init__(self, save_to: str, split: str = "train", transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None):
        _TonicDataset.__init__(self, save_to, transform=transform,
                               target_transform=target_transform)
        zips = {"train": (self.train_zip, self.train_md5), "test": (self.test_zip, self.test_md5),
                "valid": (self.valid_zip, self.valid_md5)}
        if split not in zips:
            raise ValueError(f"SSC: split must be 'train', 'valid' or 'test', got {split!r}")
        self.split = split
        self.filename, self.file_md5 = zips[split]
        self.url = self.base_url + self.filename
        self.data_filename = self.filename[:-4]
        self._open(self.url)


# ---- N-MNIST --------------------------------------------------------------------------------

class NMNIST(_td.NMNIST):
    """Tonic's NMNIST on ``save_to/NMNIST/{Train,Test}/<digit>/*.bin``."""

    def __init__(self, save_to: str, train: bool = True, first_saccade_only: bool = False,
                 stabilize: bool = False, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None,
                 transforms: Optional[Callable] = None):
        _TonicDataset.__init__(self, save_to, transform=transform,
                               target_transform=target_transform, transforms=transforms)
        self.train = train
        self.first_saccade_only = first_saccade_only
        self.stabilize = stabilize
        if train:
            self.filename, self.url = self.train_filename, self.train_url
            self.file_md5, self.folder_name = self.train_md5, self.train_folder
        else:
            self.filename, self.url = self.test_filename, self.test_url
            self.file_md5, self.folder_name = self.test_md5, self.test_folder
        folder = os.path.join(self.location_on_system, self.folder_name)
        # Tonic's walk: folders and files sorted, the label the folder name's last character.
        for path, dirs, files in os.walk(folder):
            dirs.sort()
            files.sort()
            for file in files:
                if file.endswith("bin"):
                    self.data.append(path + "/" + file)
                    self.targets.append(int(path[-1]))
        if not self.data:
            raise _missing("NMNIST", os.path.join(folder, "<digit 0-9>", "*.bin"),
                           "the N-MNIST .bin files",
                           f"download {self.filename} from {self.url} and unzip it into "
                           f"{self.location_on_system}")

    def __getitem__(self, index):
        events = read_mnist_file(self.data[index], dtype=self.dtype)
        if self.first_saccade_only:
            events = events[events["t"] < 1e5]
        if self.stabilize:
            events = _td.nmnist.stabilize(events)
        target = self.targets[index]
        if self.transform is not None:
            events = self.transform(events)
        if self.target_transform is not None:
            target = self.target_transform(target)
        if self.transforms is not None:
            events, target = self.transforms(events, target)
        return events, target


# ---- DVS Gesture ----------------------------------------------------------------------------

class DVSGesture(_td.DVSGesture):
    """Tonic's DVSGesture on its preprocessed copy,
    ``save_to/DVSGesture/ibmGesture{Train,Test}/userXX_<lighting>/<class>.npy``."""

    def __init__(self, save_to: str, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None,
                 transforms: Optional[Callable] = None):
        _TonicDataset.__init__(self, save_to, transform=transform,
                               target_transform=target_transform, transforms=transforms)
        self.train = train
        if train:
            self.url, self.file_md5 = self.train_url, self.train_md5
            self.filename, self.folder_name = self.train_filename, "ibmGestureTrain"
        else:
            self.url, self.file_md5 = self.test_url, self.test_md5
            self.filename, self.folder_name = self.test_filename, "ibmGestureTest"
        self.users = []
        self.lighting = []
        folder = os.path.join(self.location_on_system, self.folder_name)
        # Tonic's walk, in Tonic's order.
        for path, dirs, files in os.walk(folder):
            rel_path = os.path.relpath(path, folder)
            if rel_path != ".":
                user, lighting = rel_path.split("_", 1)
                dirs.sort()
                for file in files:
                    if file.endswith("npy"):
                        self.data.append(os.path.join(path, file))
                        self.targets.append(int(file[:-4]))
                        self.users.append(int(user[4:]))
                        self.lighting.append(lighting)
        if not self.data:
            raise _missing("DVSGesture", os.path.join(folder, "user<NN>_<lighting>", "<class>.npy"),
                           "the preprocessed DVS Gesture .npy files",
                           f"download {self.filename} from {self.url} and extract it into "
                           f"{self.location_on_system}")

    # __getitem__ and __len__: Tonic's (np.load, t from ms to µs, its dtype).
