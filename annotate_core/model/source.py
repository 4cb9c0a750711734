"""Where a job's items come from: uploaded neutral items, or data already on the vendor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from annotate_core.model.base import SpecModel


class ItemsSource(SpecModel):
    """Items the caller supplies (``job.add_items``), optionally from a CSV/JSONL file."""

    kind: Literal["items"] = "items"
    path: str | None = Field(None, description="CSV or JSONL file, relative to the spec file.")


class DatasetSource(SpecModel):
    """Items already stored in a vendor dataset: all of them, a filter (DQL JSON), or listed ids."""

    kind: Literal["dataset"] = "dataset"
    project: str | None = Field(None, description=(
        "Project name or id holding the dataset (default: the backend's configured project)."))
    dataset: str = Field(description="Dataset name or id.")
    filter: dict[str, Any] | None = Field(None, description="The vendor's query JSON (Dataloop DQL).")
    item_ids: tuple[str, ...] | None = Field(None, description=(
        "The vendor's ids of the items to take (not with `filter`); omit both for the whole dataset."))

    @model_validator(mode="after")
    def _one_selector(self) -> DatasetSource:
        if self.filter is not None and self.item_ids is not None:
            raise ValueError("give either `filter` or `item_ids`, not both")
        if self.item_ids is not None and not self.item_ids:
            raise ValueError("`item_ids` must not be empty (omit it to take the whole dataset)")
        return self


Source = Annotated[ItemsSource | DatasetSource, Field(discriminator="kind")]
