"""The genre world's pipeline, trained once for every ranking test (a fit takes ~20 s)."""

from __future__ import annotations

import pytest

from recsys.ranking import RankingPipeline, fit_pipeline
from tests.ranking import world


@pytest.fixture(scope="session")
def pipeline() -> RankingPipeline:
    """Tests that change its ``cfg`` put it back."""
    return fit_pipeline(world.interactions(), world.items(), world.text_content(), world.CONFIG)
