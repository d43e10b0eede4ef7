"""linviz.data: images in, :class:`Dataset` out.

Sources: CIFAR-10 (official python batches, found on disk or downloaded), image folders
(directory, .zip, .tar[.gz]) with one sub-folder per class, and the offline demo set.
"""

from linviz.data.dataset import Dataset, Split, split_validation, subsample_per_class
from linviz.data.demo import DEMO_CLASSES, make_demo_dataset
from linviz.data.images import image_files_in, read_image
from linviz.data.loading import load_dataset

__all__ = [
    "DEMO_CLASSES",
    "Dataset",
    "Split",
    "image_files_in",
    "load_dataset",
    "make_demo_dataset",
    "read_image",
    "split_validation",
    "subsample_per_class",
]
