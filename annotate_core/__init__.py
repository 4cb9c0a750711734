"""annotate: one vendor-neutral model of data-annotation jobs, run on any backend through plugins.

Typical use::

    import annotate_core as ac
    client = ac.connect("local")                # a profile of annotate.toml, or a driver name
    job = client.create_job(ac.load_spec("examples/cats_vs_dogs.yaml"))
    job.add_items("examples/cats_vs_dogs_items.csv")
    job.start().simulate()                      # local: a simulated crowd; on a vendor, people work
    job.wait()
    job.results(method="ds")
"""

from annotate_core.answers import ANSWER_COLUMNS, AnswerStatus, answers_frame
from annotate_core.backend import Backend, JobState, PlannedOperation, PlanWarning, Progress
from annotate_core.capabilities import Capability, Unsupported, check, required_capabilities
from annotate_core.client import Client, connect
from annotate_core.comparison import compare
from annotate_core.config import Profile, load_config
from annotate_core.errors import (
    AnnotateError,
    AuthenticationError,
    BackendNotInstalled,
    ConfigError,
    ItemsInputError,
    ItemsRejectedError,
    JobIdleError,
    NotFoundError,
    RateLimitError,
    SpecError,
    UnsupportedFeatureError,
    VendorError,
    VendorValidationError,
    WaitTimeoutError,
)
from annotate_core.items import Item, ItemError, UploadReport
from annotate_core.items_check import ItemsCheck, check_items
from annotate_core.job import Job
from annotate_core.jobkeys import JobKeyConflictError
from annotate_core.model import *  # noqa: F403 - the model is the public vocabulary
from annotate_core.model import __all__ as _model_all
from annotate_core.plan import CostEstimate, Plan, estimate_cost
from annotate_core.registry import list_backends, register_backend
from annotate_core.specfile import load_spec, spec_from_dict
from annotate_core.stored_spec import spec_from_json, spec_to_json

__version__ = "0.1.0"

__all__ = [
    "ANSWER_COLUMNS",
    "AnnotateError",
    "AnswerStatus",
    "AuthenticationError",
    "Backend",
    "BackendNotInstalled",
    "Capability",
    "Client",
    "ConfigError",
    "CostEstimate",
    "Item",
    "ItemError",
    "ItemsCheck",
    "ItemsInputError",
    "ItemsRejectedError",
    "JobIdleError",
    "Job",
    "JobKeyConflictError",
    "JobState",
    "NotFoundError",
    "Plan",
    "PlanWarning",
    "PlannedOperation",
    "Profile",
    "Progress",
    "RateLimitError",
    "SpecError",
    "Unsupported",
    "UnsupportedFeatureError",
    "UploadReport",
    "VendorError",
    "VendorValidationError",
    "WaitTimeoutError",
    "answers_frame",
    "check",
    "check_items",
    "compare",
    "connect",
    "estimate_cost",
    "list_backends",
    "load_config",
    "load_spec",
    "register_backend",
    "required_capabilities",
    "spec_from_dict",
    "spec_from_json",
    "spec_to_json",
    *_model_all,
]
