"""autograd-grader: grade students' PyTorch autograd exercises against reference autograd and finite differences."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("autograd-grader")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"
