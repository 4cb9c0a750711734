"""Label Studio backend for annotate: a job is a project, items are tasks, answers are annotations."""

from annotate_labelstudio.backend import LabelStudioBackend

__all__ = ["LabelStudioBackend"]
