"""Helpers for code that runs in an API node's Python worker.

The node starts each worker with the package's folder as its working directory; these helpers
find files of the package from anywhere (for example a pickled model next to the code).
"""

import os

__all__ = ["package_path", "package_dir"]


def package_dir():
    """The folder of the package (the generation) this worker serves."""
    return os.environ.get("APIDEPLOYER_PACKAGE_DIR", os.getcwd())


def package_path(*parts):
    """The path of a file of the package, from its path inside the package."""
    return os.path.join(package_dir(), *parts)
