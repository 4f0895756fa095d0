from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.fakecomm import RecordingComm, recording_comms
from upscope_widget import UpscopeSession

URL = "https://watch.example.com/cobrowse?id=VISITOR123"


@pytest.fixture
def make_session() -> Iterator[Callable[..., tuple[UpscopeSession, RecordingComm]]]:
    with recording_comms() as comms:

        def make(url: str = URL, **kwargs: Any) -> tuple[UpscopeSession, RecordingComm]:
            session = UpscopeSession(url, **kwargs)
            return session, comms[-1]

        yield make
