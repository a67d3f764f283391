"""Build step run by `sagemaker.package_model` in a staged copy: writes catalog.npz here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "code"))

from stylematch import build_catalog

print(build_catalog(Path(__file__).parent))
