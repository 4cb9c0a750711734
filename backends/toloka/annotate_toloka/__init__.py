"""annotate-toloka: the annotate backend for Toloka crowdsourcing pools, over the REST API."""

from annotate_toloka.backend import TolokaBackend

__all__ = ["TolokaBackend"]
