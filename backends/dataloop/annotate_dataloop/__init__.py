"""annotate-dataloop: Dataloop tasks, QA tasks, pulling, consensus and pipeline task nodes over REST."""

from annotate_dataloop.backend import DataloopBackend

__all__ = ["DataloopBackend"]
