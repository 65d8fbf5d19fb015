"""Fixtures shared by the recsys tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (``pytest.mark.usefixtures("one_thread")``).

    Tiny tensors: thread hand-off costs more than it saves on a shared 2-core box.
    """
    import torch  # heavy: only for the tests that ask

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
