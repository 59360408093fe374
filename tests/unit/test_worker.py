"""The processing worker outlives faults (issue 15, M2): a full disk pauses it with the
page still queued, and the same page runs again once there is room; a failure in its
own bookkeeping is retried, never the end of the thread. Real intake and queue; the
page's processing is stubbed, the disk's space switched by hand."""

from __future__ import annotations

import errno
import queue
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from station.capture.drivers.base import CapturedImage
from station.capture.intake import Intake, Job
from station.core.errors import DiskFullError
from station.core.models import BookRef
from station.processing.pipeline import PageResult, Pipeline, Worker

BOOK = BookRef("KS", 2007, 1)
WAIT = 30.0


class Disk:
    """Whether the disk is full, as intake's reserve check sees it."""

    def __init__(self) -> None:
        self.full = False

    def check(self, incoming: int = 0) -> None:
        if self.full:
            raise DiskFullError(free_mb=0, reserve_mb=1)


class StubPipeline(Pipeline):
    """A pipeline whose page step raises the queued outcomes first, then succeeds."""

    def __init__(self, intake: Intake, outcomes: list[BaseException]) -> None:
        super().__init__(store=None, intake=intake, budget_bytes=0)  # type: ignore[arg-type]
        self.outcomes = outcomes
        self.runs: list[str] = []

    def _process(self, job: Job) -> Any:
        self.runs.append(job.capture.id)
        if self.outcomes:
            raise self.outcomes.pop(0)
        return None, []


@pytest.fixture
def intake(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Intake:
    made = Intake(data_dir, reserve_mb=1)
    page = CapturedImage(dpi=150, source="test", device="t:0", image=Image.new("L", (30, 20)))
    made.save(page, BOOK, "page-1")
    return made


def run_worker(pipeline: Pipeline) -> tuple[Worker, queue.Queue[PageResult]]:
    results: queue.Queue[PageResult] = queue.Queue()
    worker = Worker(pipeline, on_result=results.put, retry_seconds=0.02)
    worker.start()
    return worker, results


def test_a_full_disk_pauses_the_page_and_runs_it_again_once_there_is_room(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = Disk()
    monkeypatch.setattr(intake, "check_space", disk.check)
    disk.full = True
    no_room = OSError(errno.ENOSPC, "No space left on device")
    pipeline = StubPipeline(intake, [no_room])
    worker, results = run_worker(pipeline)
    try:
        paused = results.get(timeout=WAIT)
        assert paused.waits_for_space and paused.error is not None
        assert paused.error.key == "processing.waits_for_space"
        assert worker.waiting_for_space is not None and worker.is_alive()
        assert len(intake.queue) == 1 and intake.queue.failed() == []  # kept, not failed
        assert not worker.wait_idle(WAIT)  # says at once that it waits
        disk.full = False
        done = results.get(timeout=WAIT)
        assert done.error is None and done.capture.id == paused.capture.id
        assert worker.wait_idle(WAIT) and len(intake.queue) == 0
        assert worker.waiting_for_space is None
    finally:
        worker.stop()


def test_a_fault_in_the_bookkeeping_is_retried_and_the_worker_lives_on(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish = intake.finish
    failures = [OSError(errno.EIO, "I/O error"), OSError(errno.ENOSPC, "No space left")]

    def flaky_finish(job: Job) -> None:
        if failures:
            raise failures.pop(0)
        finish(job)

    monkeypatch.setattr(intake, "finish", flaky_finish)
    pipeline = StubPipeline(intake, [])
    worker, results = run_worker(pipeline)
    try:
        done = results.get(timeout=WAIT)  # announced once its job is finished
        assert done.error is None
        assert len(intake.queue) == 0 and intake.queue.failed() == []
        assert len(pipeline.runs) == 3  # the same page, run again after each fault
        assert worker.is_alive()
    finally:
        worker.stop()
