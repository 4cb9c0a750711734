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

# The public names are imported on first use (PEP 562), not here: `import annotate_core` stays cheap
# (no pandas, SQLAlchemy, requests or pydantic models until a name that needs them is touched), so the
# CLI and `annotate --help` start fast. Type checkers and IDEs read the imports below instead.

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annotate_core.answers import ANSWER_COLUMNS, AnswerStatus, answers_frame
    from annotate_core.backend import Backend, JobState, PlannedOperation, PlanWarning, Progress, PulledWork
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

    # the model: the public vocabulary
    from annotate_core.model.commercial import (
        DynamicPricing,
        Event,
        Limits,
        PriceInterval,
        Pricing,
        Webhook,
    )
    from annotate_core.model.fields import DataField, FieldType, Option
    from annotate_core.model.interface import (
        CheckboxGroup,
        Dropdown,
        ImageView,
        Interface,
        RadioGroup,
        TextInput,
        TextView,
    )
    from annotate_core.model.quality import (
        AnswerCount,
        Ban,
        BanScope,
        CaptchaFailRate,
        DurationUnit,
        FastSubmits,
        GoldenAccuracy,
        Quality,
        QualityRule,
        RejectAnswers,
        SetSkill,
        SkillValue,
        SkippedInRow,
        SkipRate,
    )
    from annotate_core.model.source import DatasetSource, ItemsSource
    from annotate_core.model.spec import JobSpec
    from annotate_core.model.workflow import (
        Fixed,
        OnReject,
        Overlap,
        Pipeline,
        Pulling,
        Review,
        Stage,
        StageKind,
        Training,
    )
    from annotate_core.model.workforce import (
        AllOf,
        AnyOf,
        Assignee,
        Attribute,
        Condition,
        Op,
        Workforce,
    )
    from annotate_core.plan import CostEstimate, Plan, estimate_cost
    from annotate_core.registry import list_backends, register_backend
    from annotate_core.specfile import load_spec, spec_from_dict
    from annotate_core.stored_spec import spec_document, spec_from_json, spec_to_json

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ["ANSWER_COLUMNS", "AnswerStatus", "answers_frame"],
        "annotate_core.answers",
    ),
    **dict.fromkeys(
        ["Backend", "JobState", "PlanWarning", "PlannedOperation", "Progress", "PulledWork"],
        "annotate_core.backend",
    ),
    **dict.fromkeys(
        ["Capability", "Unsupported", "check", "required_capabilities"],
        "annotate_core.capabilities",
    ),
    **dict.fromkeys(
        ["Client", "connect"],
        "annotate_core.client",
    ),
    **dict.fromkeys(
        ["compare"],
        "annotate_core.comparison",
    ),
    **dict.fromkeys(
        ["Profile", "load_config"],
        "annotate_core.config",
    ),
    **dict.fromkeys(
        ["AnnotateError", "AuthenticationError", "BackendNotInstalled", "ConfigError", "ItemsInputError",
         "ItemsRejectedError", "JobIdleError", "NotFoundError", "RateLimitError", "SpecError",
         "UnsupportedFeatureError", "VendorError", "VendorValidationError", "WaitTimeoutError"],
        "annotate_core.errors",
    ),
    **dict.fromkeys(
        ["Item", "ItemError", "UploadReport"],
        "annotate_core.items",
    ),
    **dict.fromkeys(
        ["ItemsCheck", "check_items"],
        "annotate_core.items_check",
    ),
    **dict.fromkeys(
        ["Job"],
        "annotate_core.job",
    ),
    **dict.fromkeys(
        ["JobKeyConflictError"],
        "annotate_core.jobkeys",
    ),
    **dict.fromkeys(
        ["AllOf", "AnswerCount", "AnyOf", "Assignee", "Attribute", "Ban", "BanScope", "CaptchaFailRate",
         "CheckboxGroup", "Condition", "DataField", "DatasetSource", "Dropdown", "DurationUnit", "DynamicPricing",
         "Event", "FastSubmits", "FieldType", "Fixed", "GoldenAccuracy", "ImageView", "Interface", "ItemsSource",
         "JobSpec", "Limits", "OnReject", "Op", "Option", "Overlap", "Pipeline", "PriceInterval", "Pricing",
         "Pulling", "Quality", "QualityRule", "RadioGroup", "RejectAnswers", "Review", "SetSkill", "SkillValue",
         "SkipRate", "SkippedInRow", "Stage", "StageKind", "TextInput", "TextView", "Training", "Webhook",
         "Workforce"],
        "annotate_core.model",
    ),
    **dict.fromkeys(
        ["CostEstimate", "Plan", "estimate_cost"],
        "annotate_core.plan",
    ),
    **dict.fromkeys(
        ["list_backends", "register_backend"],
        "annotate_core.registry",
    ),
    **dict.fromkeys(
        ["load_spec", "spec_from_dict"],
        "annotate_core.specfile",
    ),
    **dict.fromkeys(
        ["spec_document", "spec_from_json", "spec_to_json"],
        "annotate_core.stored_spec",
    ),
}

__all__ = [
    "ANSWER_COLUMNS",
    "AllOf",
    "AnnotateError",
    "AnswerCount",
    "AnswerStatus",
    "AnyOf",
    "Assignee",
    "Attribute",
    "AuthenticationError",
    "Backend",
    "BackendNotInstalled",
    "Ban",
    "BanScope",
    "Capability",
    "CaptchaFailRate",
    "CheckboxGroup",
    "Client",
    "Condition",
    "ConfigError",
    "CostEstimate",
    "DataField",
    "DatasetSource",
    "Dropdown",
    "DurationUnit",
    "DynamicPricing",
    "Event",
    "FastSubmits",
    "FieldType",
    "Fixed",
    "GoldenAccuracy",
    "ImageView",
    "Interface",
    "Item",
    "ItemError",
    "ItemsCheck",
    "ItemsInputError",
    "ItemsRejectedError",
    "ItemsSource",
    "Job",
    "JobIdleError",
    "JobKeyConflictError",
    "JobSpec",
    "JobState",
    "Limits",
    "NotFoundError",
    "OnReject",
    "Op",
    "Option",
    "Overlap",
    "Pipeline",
    "Plan",
    "PlanWarning",
    "PlannedOperation",
    "PriceInterval",
    "Pricing",
    "Profile",
    "Progress",
    "PulledWork",
    "Pulling",
    "Quality",
    "QualityRule",
    "RadioGroup",
    "RateLimitError",
    "RejectAnswers",
    "Review",
    "SetSkill",
    "SkillValue",
    "SkipRate",
    "SkippedInRow",
    "SpecError",
    "Stage",
    "StageKind",
    "TextInput",
    "TextView",
    "Training",
    "Unsupported",
    "UnsupportedFeatureError",
    "UploadReport",
    "VendorError",
    "VendorValidationError",
    "WaitTimeoutError",
    "Webhook",
    "Workforce",
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
    "spec_document",
    "spec_from_dict",
    "spec_from_json",
    "spec_to_json",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here, so the next access is a
    plain attribute lookup."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
