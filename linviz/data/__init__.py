"""linviz.data: images in, :class:`Dataset` out.

Sources: CIFAR-10 (official python batches, found on disk or downloaded), image folders
(directory, .zip, .tar[.gz]) with one sub-folder per class, and the offline demo set.
No Qt here: the GUI, the CLI and notebooks all use the same functions.
"""

from linviz.data.cifar10 import CIFAR10_CLASSES, CIFAR10_MD5, CIFAR10_URL, find_cifar10
from linviz.data.dataset import Dataset, Split, split_validation, subsample_per_class
from linviz.data.demo import DEMO_CLASSES, make_demo_dataset
from linviz.data.download import download_cifar10
from linviz.data.images import image_files_in, read_image, read_images
from linviz.data.loading import load_dataset

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "DEMO_CLASSES",
    "Dataset",
    "Split",
    "download_cifar10",
    "find_cifar10",
    "image_files_in",
    "load_dataset",
    "make_demo_dataset",
    "read_image",
    "read_images",
    "split_validation",
    "subsample_per_class",
]
