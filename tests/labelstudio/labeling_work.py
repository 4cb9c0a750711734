"""Annotators at work: each takes the next task from the project's queue and answers it, in turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotate_labelstudio.labeling import object_names, result_entry

from annotate_core.model.spec import JobSpec

from .server import Annotator, pick


def label_everything(spec: JobSpec, job_id: str, people: Sequence[Annotator], *,
                     skip_every: int = 0, limit: int | None = None) -> int:
    """Round-robin over ``people`` until the queue gives nobody a task (or ``limit`` annotations).
    Answers are deterministic (``pick`` by item key and annotator position); every ``skip_every``-th
    annotation is a skip. Returns how many annotations were made."""
    to_name = object_names(spec)[0]
    output = spec.outputs[0]
    options = tuple(o.value for o in output.options) or ("cat", "dog")
    made = 0
    active = list(range(len(people)))
    while active and (limit is None or made < limit):
        for index in list(active):
            if limit is not None and made >= limit:
                break
            person = people[index]
            task = person.next_task(job_id)
            if task is None:
                active.remove(index)
                continue
            key = task["data"].get("_annotate_key", str(task["id"]))
            made += 1
            result: list[dict[str, Any]] = [result_entry(output, to_name, pick(key, f"p{index}", options))]
            person.annotate(task["id"], result, lead_time=1.0 + made % 7,
                            skip=bool(skip_every) and made % skip_every == 0)
    return made
