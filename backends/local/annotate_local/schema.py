"""The local store's tables (SQLAlchemy Core), and the schema version that lets later releases migrate.

One schema serves SQLite and PostgreSQL. Times are stored as UTC epoch seconds (floats): they compare
and subtract the same way on both databases, and the simulated clock produces them directly.

Counters on ``items`` (``done``, ``open``, ``free``) are what makes overlap exact under concurrency:
they change only inside the transaction that hands out or takes back an answer slot, with the item
rows locked, so "how many answers does this item still need" is never computed from stale data.
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    literal_column,
    select,
    text,
)

from annotate_core.errors import ConfigError

log = logging.getLogger(__name__)

#: bump with every change to the tables below, and add a step to ``MIGRATIONS``
SCHEMA_VERSION = 3

# Autoincrementing 64-bit ids on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

meta = Table(
    "annotate_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

jobs = Table(
    "annotate_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("project", String(200), nullable=False),  # ban scope "project": jobs sharing this name
    Column("spec", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("closed_at", Float),
    Column("deadline_at", Float),
    Column("mixing", Boolean, nullable=False),  # golden items are mixed in, not queued as work
    Column("job_key", String(120)),  # the client's job key (create-or-attach); NULL for unkeyed jobs
)
# unique among keyed jobs (both SQLite and PostgreSQL let NULLs repeat): two processes creating the
# same key at once end with one job, the loser attaching to it
Index("ux_jobs_key", jobs.c.job_key, unique=True)

items = Table(
    "annotate_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(32), ForeignKey("annotate_jobs.id"), nullable=False),
    Column("key", String(300), nullable=False),
    Column("kind", String(10), nullable=False),  # real | golden | training
    Column("inputs", JSON, nullable=False),
    Column("golden", JSON),
    Column("hint", Text),
    Column("truth", JSON),  # hidden true answer, known only to the simulator
    Column("needed", Integer, nullable=False),  # answers this item needs (its overlap)
    Column("done", Integer, nullable=False, default=0),  # submitted answers that count
    Column("open", Integer, nullable=False, default=0),  # slots handed out, not yet submitted
    Column("free", Integer, nullable=False),  # needed - done - open, for queued items; 0 otherwise
    Column("created_at", Float, nullable=False),
    UniqueConstraint("job_id", "key", name="uq_items_job_key"),
)
# The queue: only items that still need answers are in this index, so pulling stays fast at any size.
# Queries must say ``QUEUED`` (a literal 0, not a bound parameter) for the planners to use it.
QUEUED = items.c.free > literal_column("0")
Index("ix_items_queue", items.c.job_id, items.c.id, sqlite_where=QUEUED, postgresql_where=QUEUED)
# Control items (mixed-in golden, training) have needed = 0: a small index of their own; say ``CONTROL``.
CONTROL = items.c.needed == literal_column("0")
Index("ix_items_control", items.c.job_id, items.c.kind, items.c.id, sqlite_where=CONTROL, postgresql_where=CONTROL)
# The golden item a batch mixes in is the least used one the worker has not seen (``statements.GOLDEN``):
# in this order the first unseen one ends the search, instead of sorting every golden item per pull.
Index("ix_items_golden_use", items.c.job_id, items.c.kind, items.c.done + items.c.open, items.c.id,
      sqlite_where=CONTROL, postgresql_where=CONTROL)

item_assignees = Table(
    "annotate_item_assignees",
    metadata,
    Column("job_id", String(32), nullable=False),
    Column("item_id", Id, ForeignKey("annotate_items.id"), nullable=False),
    Column("worker", String(200), nullable=False),
    PrimaryKeyConstraint("item_id", "worker"),
)
Index("ix_item_assignees_worker", item_assignees.c.job_id, item_assignees.c.worker)

assignments = Table(
    "annotate_assignments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("job_id", String(32), ForeignKey("annotate_jobs.id"), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # work | training
    Column("status", String(10), nullable=False),  # an AnswerStatus value
    Column("n", Integer, nullable=False),  # the worker's n-th assignment in this job
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("submitted_at", Float),
    Column("duration_s", Float),
    Column("captcha", String(16)),  # challenge shown with this assignment, if any
    Column("captcha_ok", Boolean),
    Column("review", String(10), nullable=False, default="none"),  # none | pending | taken | done
    Column("reviewer", String(200)),
    Column("review_comment", Text),
    Column("review_taken_at", Float),
    Column("reviewed_at", Float),
    Column("reward", Float),
)
Index("ix_assignments_worker", assignments.c.job_id, assignments.c.worker, assignments.c.created_at)
Index("ix_assignments_status", assignments.c.job_id, assignments.c.status, assignments.c.expires_at)
Index("ix_assignments_review", assignments.c.job_id, assignments.c.review)
# a worker's latest assignments, newest first (the quality rules' windows): read in index order and
# stopped after the window, so a rule costs the same at the worker's 10th and 10,000th assignment
Index("ix_assignments_recent", assignments.c.job_id, assignments.c.worker, assignments.c.submitted_at)

answers = Table(
    "annotate_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False),
    Column("assignment_id", String(32), ForeignKey("annotate_assignments.id"), nullable=False),
    Column("item_id", Id, ForeignKey("annotate_items.id"), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # copied from the item: real | golden | training
    Column("position", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("value", JSON),  # output name -> answer
    Column("correct", Boolean),  # golden and training items: matched the known answer
    Column("submitted_at", Float),
)
# "Answered by that many *different* workers": the database itself refuses a second slot of the same
# item for the same worker. Training items are exempt: a worker who failed may retry them.
Index("uq_answers_item_worker", answers.c.item_id, answers.c.worker, unique=True,
      sqlite_where=answers.c.kind != "training", postgresql_where=answers.c.kind != "training")
Index("ix_answers_item", answers.c.item_id, answers.c.worker)  # "has this worker seen the item?"
Index("ix_answers_assignment", answers.c.assignment_id)
# a worker's answers by kind, newest last (golden accuracy reads the latest window of golden answers)
Index("ix_answers_worker", answers.c.job_id, answers.c.worker, answers.c.kind, answers.c.submitted_at)

workers = Table(
    "annotate_workers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("attributes", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

skills = Table(
    "annotate_skills",
    metadata,
    Column("worker", String(200), nullable=False),
    Column("skill", String(200), nullable=False),
    Column("value", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("worker", "skill"),
)

bans = Table(
    "annotate_bans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("worker", String(200), nullable=False),
    Column("scope", String(10), nullable=False),  # job | project | all
    Column("job_id", String(32)),
    Column("project", String(200)),
    Column("until", Float),  # None: permanent
    Column("reason", Text),
    Column("rule", String(200)),
    Column("created_at", Float, nullable=False),
)
Index("ix_bans_worker", bans.c.worker)

job_workers = Table(
    "annotate_job_workers",
    metadata,
    Column("job_id", String(32), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("n_assignments", Integer, nullable=False, default=0),
    Column("training", String(10)),  # None | passed | failed
    Column("training_score", Float),
    Column("training_at", Float),
    PrimaryKeyConstraint("job_id", "worker"),
)

events = Table(
    "annotate_events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("worker", String(200)),
    Column("assignment", String(32)),
    Column("data", JSON),
    Column("at", Float, nullable=False),
)
Index("ix_events_job", events.c.job_id, events.c.seq)

results = Table(
    "annotate_results",
    metadata,
    Column("job_id", String(32), nullable=False),
    Column("field", String(200), nullable=False),
    Column("item_key", String(300), nullable=False),
    Column("label", JSON),
    Column("confidence", Float),
    Column("n_answers", Integer),
    Column("method", String(32), nullable=False),
    PrimaryKeyConstraint("job_id", "field", "item_key"),
)

webhook_deliveries = Table(
    "annotate_webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False),
    Column("event_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
)
Index("ix_webhook_pending", webhook_deliveries.c.status, webhook_deliveries.c.id)

# version -> SQL statements that bring a store from version-1 to version
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE annotate_jobs ADD COLUMN job_key VARCHAR(120)",
        "CREATE UNIQUE INDEX ux_jobs_key ON annotate_jobs (job_key)"],
    # v3: the quality rules' "latest N" windows read an index in order instead of sorting all of a
    # worker's work (issue 16: a simulated 1M-item job slowed down as workers piled up assignments)
    3: ["CREATE INDEX IF NOT EXISTS ix_assignments_recent ON annotate_assignments (job_id, worker, submitted_at)",
        "DROP INDEX IF EXISTS ix_answers_worker",
        "CREATE INDEX ix_answers_worker ON annotate_answers (job_id, worker, kind, submitted_at)",
        # and the golden item to mix in comes from an index in its order, not a sort of all of them
        'CREATE INDEX IF NOT EXISTS ix_items_golden_use ON annotate_items (job_id, kind, (done + "open"), id) '
        "WHERE needed = 0"],
}


def ensure_schema(engine: Engine, *, create: bool = True) -> int | None:
    """Create the tables on first use, migrate an older store, refuse a newer one. Returns the version.

    With ``create=False`` (a read) a database without the tables is left as it is: None.
    """
    with engine.begin() as conn:
        if not inspect(conn).has_table(meta.name):
            if not create:
                return None
            metadata.create_all(conn)
            conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            log.info("created annotate-local schema v%d at %s", SCHEMA_VERSION, engine.url.render_as_string())
            return SCHEMA_VERSION
        found = int(conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one())
        if found > SCHEMA_VERSION:
            raise ConfigError(
                f"the store at {engine.url.render_as_string()} has schema v{found}, newer than this "
                f"annotate-local (v{SCHEMA_VERSION}); upgrade annotate-local"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(version, []):
                conn.execute(text(statement))
            log.info("migrated annotate-local schema to v%d", version)
        if found < SCHEMA_VERSION:
            metadata.create_all(conn)  # tables new in this version
            conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
