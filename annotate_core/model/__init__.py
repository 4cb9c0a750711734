"""The neutral job model: immutable pydantic v2 specs, one module per concept."""

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

__all__ = [
    "AllOf", "AnswerCount", "AnyOf", "Assignee", "Attribute", "Ban", "BanScope", "CaptchaFailRate",
    "CheckboxGroup", "Condition", "DataField", "DatasetSource", "Dropdown", "DurationUnit",
    "DynamicPricing", "Event", "FastSubmits", "FieldType", "Fixed", "GoldenAccuracy", "ImageView",
    "Interface", "ItemsSource", "JobSpec", "Limits", "OnReject", "Op", "Option", "Overlap",
    "Pipeline", "PriceInterval", "Pricing", "Pulling", "Quality", "QualityRule", "RadioGroup",
    "RejectAnswers", "Review", "SetSkill", "SkillValue", "SkipRate", "SkippedInRow", "Stage",
    "StageKind", "TextInput", "TextView", "Training", "Webhook", "Workforce",
]
