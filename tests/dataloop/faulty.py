"""The fault harness's view of Dataloop: the fake gate as one vendor account, served with faults.

``FaultyDataloop`` is what ``BackendConformance.test_faults_then_rerun_end_with_one_job`` drives: each
``backend()`` is a fresh process as far as the backend can tell (new sessions, new create ids), and
before it starts every command the gate had been running finishes, as it would while a crashed
script is restarted. Counts are read from the fake's state, never from the backend.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from annotate_dataloop import DataloopBackend
from annotate_dataloop.jobref import JobRef
from pydantic import SecretStr

from annotate_core.items import Item
from annotate_core.testing.faults import Fault, FaultPlan, FaultyServer, FaultyVendor

from .fake_gate import FakeGate
from .helpers import fake_jwt


def _annotates(obj: Mapping[str, Any]) -> bool:
    return isinstance(((obj.get("metadata") or {}).get("user") or {}).get("annotate"), dict)


class FaultyDataloop(FaultyVendor):
    """The fake gate behind a ``FaultyServer``; one job of the suite's base spec is one task."""

    one_job: Mapping[str, int] = {"task": 1}
    #: a whole base-spec job (find, resolve, create, upload 6 items, start, answers) takes about this many
    expected_requests = 32

    def __init__(self, gate: FakeGate, server: FaultyServer, **options: Any) -> None:
        super().__init__(server)
        self.gate = gate
        self.options = options

    def backend(self) -> DataloopBackend:
        self.gate.settle()
        read_timeout = self.server.hold / 3  # well below how long a READ_TIMEOUT reply is held back
        return DataloopBackend(
            token=SecretStr(fake_jwt(4102444800)), project="my-project", dataset="my-dataset",
            base_url=self.server.url + "/api/v1", poll_interval=0.0, backoff_factor=0.0, sleep=lambda s: None,
            timeout=(2.0, read_timeout), **self.options)

    def objects(self) -> Mapping[str, int]:
        """Annotation tasks, QA tasks and pipelines annotate made (platform-made node tasks left out)."""
        with self.gate.lock:
            kinds: Counter[str] = Counter()
            for t in self.gate.s.tasks.values():
                if _annotates(t):
                    kinds["qa_task" if t["spec"].get("type") == "qa" else "task"] += 1
            kinds["pipeline"] += len(self.gate.s.pipelines)
            return {k: n for k, n in kinds.items() if n}

    def item_copies(self) -> Counter[str]:
        with self.gate.lock:
            return Counter(key for i in self.gate.s.items.values()
                           if isinstance(key := ((i["metadata"].get("user") or {}).get("annotate") or {}).get("key"),
                                         str))

    def answer(self, job_id: str, items: list[Item]) -> None:
        task_id = JobRef.parse(job_id).task
        assert task_id is not None
        self.gate.work(task_id, lambda item, who: "cat" if item["id"][-1] in "02468ace" else "dog",
                       only_unanswered=True)

    def answer_count(self, job_id: str) -> int:
        task_id = JobRef.parse(job_id).task
        with self.gate.lock:
            return sum(1 for a in self.gate.s.annotations.values()
                       if a["metadata"]["system"].get("taskId") == task_id
                       and not self.gate.s.items[a["itemId"]]["hidden"])


@contextmanager
def served_gate() -> Iterator[FaultyDataloop]:
    """A fresh fake gate (no dedupe, real paging, commands that finish unpolled) behind a FaultyServer."""
    gate = FakeGate()
    server = FaultyServer(gate.handle, read_timeout=0.3)
    server.start()
    try:
        yield FaultyDataloop(gate, server)
    finally:
        server.stop()


@dataclass
class AimedPlan(FaultPlan):
    """One fault on the ``nth`` request whose method and path match (and the ``times - 1`` after it)."""

    method: str = "POST"
    path: str = ""
    fault: Fault = Fault.ERROR_AFTER
    nth: int = 1
    times: int = 1
    seen: dict[str, int] = field(default_factory=dict)

    def _aimed(self, side: str, method: str, target: str) -> Fault | None:
        if method != self.method or not re.search(self.path, target.split("?")[0]):
            return None
        if self.fault.client_side != (side == "client"):
            return None
        with self._lock:
            self.seen[side] = self.seen.get(side, 0) + 1
            if not self.nth <= self.seen[side] < self.nth + self.times:
                return None
            self.fired.append(f"{side} {method} {target.split('?')[0]} #{self.nth}: {self.fault.value}")
            return self.fault

    def on_server_request(self, method: str, target: str) -> Fault | None:
        return self._aimed("server", method, target)

    def _on_client_request(self, method: str, url: str) -> Fault | None:
        return self._aimed("client", method, url)
