"""Test settings: the real settings, with a throwaway data directory and identity key."""

import os
import tempfile

os.environ["STEPPINGSTONES_DATA_DIR"] = tempfile.mkdtemp(prefix="steppingstones-test-")
os.environ.pop("STEPPINGSTONES_IDENTITY_KEY", None)
os.environ.pop("STEPPINGSTONES_IDENTITY_KEY_FILE", None)

from steppingstones.config.settings import *  # noqa: F403
