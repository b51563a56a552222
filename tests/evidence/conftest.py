from __future__ import annotations

from typing import Any

import pytest

from steppingstones.core.progress import SilentProgress
from steppingstones.evidence.demo_load import store_reviews


@pytest.fixture
def reviews(world: dict[str, Any]) -> dict[str, Any]:
    """The `world` study holding the demo's two reviews, extracted and appraised by its
    researcher and peer researcher."""
    users = world["users"]
    store_reviews(
        world["alpha"],
        reviewers=(users["researcher"], users["peer-researcher"]),
        progress=SilentProgress(),
    )
    return world
