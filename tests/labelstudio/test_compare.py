"""``annotate compare`` on a Label Studio job (the in-house arm: real annotators on the real server)
against a local job of the same spec (a simulated crowd), through the CLI and its profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from annotate_labelstudio import LabelStudioBackend
from click.testing import CliRunner

from annotate_core.cli.main import cli
from annotate_core.client import Client, connect
from annotate_core.testing import base_spec, conformance_items

from .conftest import RECORDING
from .labeling_work import label_everything
from .server import REPLAY_TOKEN, Annotator, live_token

pytestmark = pytest.mark.vcr


def test_compare_a_label_studio_job_with_a_local_one(make_backend, ls_url: str, ls_mode: str,
                                                     annotators: list[Annotator], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec = base_spec(LabelStudioBackend.capabilities, name="cats vs dogs", overlap={"count": 2})
    items = conformance_items(6, golden=2)

    studio = Client(make_backend(), profile="studio").create_job(spec)
    studio.add_items(items, progress=False)
    studio.start()
    label_everything(spec, studio.id, annotators)

    store = tmp_path / "local.db"
    local_client = connect(driver="local", path=str(store))
    local = local_client.create_job(spec)
    local.add_items(items, progress=False)
    local.start()
    local.simulate(seed=7)
    local_client.close()

    monkeypatch.setenv("STUDIO_TOKEN", live_token() if ls_mode == "live" or RECORDING else REPLAY_TOKEN)
    (tmp_path / "annotate.toml").write_text(
        f'[profiles.studio]\ndriver = "labelstudio"\nurl = "{ls_url}"\ntoken_env = "STUDIO_TOKEN"\n\n'
        f'[profiles.here]\ndriver = "local"\npath = "{store}"\n')
    res = CliRunner().invoke(cli, ["--config", str(tmp_path / "annotate.toml"), "compare",
                                   f"studio:{studio.id}", f"here:{local.id}", "-m", "mv", "--json",
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    rows = {r["job"]: r for r in json.loads(res.output)["jobs"]}
    ls_row, local_row = rows[f"studio:{studio.id}"], rows[f"here:{local.id}"]
    assert ls_row["backend"] == "labelstudio" and local_row["backend"] == "local"
    for row in (ls_row, local_row):
        assert (row["items"], row["golden_items"]) == (6, 2)
        assert row["usable_answers"] == 12  # overlap 2 on 6 items
        assert 0.0 <= row["acc_golden_mv"] <= 1.0
    assert ls_row["state"] == "completed" and 2 <= ls_row["workers"] <= len(annotators)
    assert ls_row["cost_source"] == "unknown"  # Label Studio pays nobody and reports no cost
