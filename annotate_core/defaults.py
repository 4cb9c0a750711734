"""Defaults more than one layer needs, kept apart so that reading one loads nothing heavy.

``Job.results`` names the default aggregation method in its signature; taking it from
``annotate_core.aggregation`` would import that package (numpy, pandas) whenever ``connect()`` does.
"""

#: the method ``Job.results`` and the CLI (``run``, ``demo``, ``results``) use unless told otherwise:
#: Dawid-Skene weighs each worker by their estimated skill, which beats majority vote on a noisy crowd
DEFAULT_METHOD = "ds"
