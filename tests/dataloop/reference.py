"""Request bodies dtlpy 1.126.5 sent on the wire, copied from shared/reference/dataloop-api.md ([W] tags),
and ``DIFFERENCES``: every way annotate's bodies for the same seed flows differ from them, with why.

Tests compare what annotate builds with these, so a drift from dtlpy's wire format fails loudly;
``test_reference.py`` computes the differing fields of each flow and demands exactly the listed ones.
"""

from __future__ import annotations

PROJECT = "3a7c5f1e-9b2d-4c8e-a1f0-6d5e4b3c2a10"
DATASET = "65f1c0a2b3d4e5f6a7b8c9d0"
RECIPE = "65f1c0a2b3d4e5f6a7b8c9d1"
PARENT_TASK = "66b00000000660e6e079c449"
DUE_2029 = 1861920000000.0

# §3.5.2 task from filters (seed flow: dl.Filters(field='annotated', values=False), 2 assignees)
TASK_FROM_FILTER = {
    "name": "seed-task",
    "query": "{\"filter\": {\"$and\": [{\"hidden\": false}, {\"type\": \"file\"}, {\"annotated\": false}]}, "
             "\"page\": 0, \"pageSize\": 1000, \"resource\": \"items\"}",
    "taskOwner": "owner@example.com",
    "spec": {"type": "annotation"},
    "datasetId": DATASET,
    "projectId": PROJECT,
    "assignmentIds": [],
    "recipeId": RECIPE,
    "dueDate": DUE_2029,
    "asynced": True,
    "priority": 2,
    "workload": [{"assigneeId": "annotator1@dataloop.ai", "load": 50},
                 {"assigneeId": "annotator2@dataloop.ai", "load": 50}],
}

# §3.5.3 item list: an id $in query without the default clauses
ITEMS_QUERY = ("{\"filter\": {\"$and\": [{\"id\": {\"$in\": [\"65f1c1000000000000000001\", "
               "\"65f1c1000000000000000002\"]}}]}, \"page\": 0, \"pageSize\": 1000, \"resource\": \"items\"}")

# §3.5.4 whole dataset
WHOLE_DATASET_QUERY = ("{\"filter\": {\"$and\": [{\"hidden\": false}, {\"type\": \"file\"}]}, \"page\": 0, "
                       "\"pageSize\": 1000, \"resource\": \"items\"}")

# §3.6 pulling task (no workload, allowed assignees in metadata.system)
PULLING = {
    "name": "seed-pulling",
    "query": WHOLE_DATASET_QUERY,
    "taskOwner": "owner@example.com", "spec": {"type": "annotation"},
    "datasetId": DATASET, "projectId": PROJECT,
    "assignmentIds": [], "recipeId": RECIPE, "dueDate": DUE_2029,
    "asynced": True, "priority": 2,
    "metadata": {"system": {"allowedAssignees": ["annotator1@dataloop.ai", "annotator2@dataloop.ai"],
                            "batchSize": 10, "maxBatchWorkload": 15, "scoring": False}},
}

# §3.7 consensus (consensus_percentage=100, consensus_assignees=2)
CONSENSUS_SYSTEM = {"allowedAssignees": ["annotator1@dataloop.ai", "annotator2@dataloop.ai"],
                    "consensusPercentage": 100, "consensusAssignees": 2, "scoring": False}

# §3.8 QA task over the filter task's items that have a status in the parent
QA = {
    "name": "seed-task_qa",
    "query": "{\"filter\": {\"$and\": [{\"hidden\": false}, {\"type\": \"file\"}, {\"annotated\": false}, "
             "{\"metadata.system.refs\": {\"$match\": {\"id\": \"66b00000000660e6e079c449\", \"type\": \"task\", "
             "\"metadata\": {\"status\": {\"$exists\": true}}}}}]}, \"page\": 0, \"pageSize\": 1000, "
             "\"resource\": \"items\"}",
    "taskOwner": "owner@example.com",
    "spec": {"type": "qa", "parentTaskId": PARENT_TASK},
    "datasetId": DATASET, "projectId": PROJECT,
    "assignmentIds": [], "recipeId": RECIPE, "dueDate": DUE_2029,
    "asynced": True, "priority": 2,
    "workload": [{"assigneeId": "annotator1@dataloop.ai", "load": 50},
                 {"assigneeId": "annotator2@dataloop.ai", "load": 50}],
}

# §3.9 add items by filter (unassigned items) and by item list
ADD_BY_FILTER = {
    "query": "{\"filter\": {\"$and\": [{\"hidden\": false}, {\"type\": \"file\"}, {\"metadata.system.refs\": []}]}, "
             "\"page\": 0, \"pageSize\": 1000, \"resource\": \"items\"}",
    "workload": [{"assigneeId": "annotator1@dataloop.ai", "load": 50},
                 {"assigneeId": "annotator2@dataloop.ai", "load": 50}],
    "asynced": True,
}
ADD_BY_ITEMS = {
    "query": "{\"filter\": {\"$and\": [{\"id\": {\"$in\": [\"65f1c1000000000000000001\"]}}]}, \"page\": 0, "
             "\"pageSize\": 1000, \"resource\": \"items\"}",
    "workload": [{"assigneeId": "annotator1@dataloop.ai", "load": 100}],
    "asynced": True,
}

# §3.14 dl.TaskNode(name='My Task', task_owner='owner', workload=[WorkloadUnit('assignee_id', 100)],
# position=(2, 1), ...): the metadata part (ids and dueDate differ per run)
TASK_NODE_METADATA = {
    "position": {"x": 780.0, "y": 217.5, "z": 0},
    "datasetId": DATASET,
    "recipeTitle": "pets Default Recipe", "recipeId": RECIPE,
    "taskOwner": "owner", "taskType": "annotation",
    "workload": [{"assigneeId": "assignee_id", "load": 100}],
    "repeatable": True, "priority": 2,
}

# §3.4 ontology created by dataset.recipes.create(labels=[cat, dog]) (colours are the caller's)
ONTOLOGY_KEYS = {"roots", "projectIds", "attributes"}
LABEL_VALUE_KEYS = {"tag", "attributes", "displayLabel", "displayData", "color"}

# §3.14 pipeline create and the connection task_node.connect(node=qa_node) adds
PIPELINE_CREATE = {"name": "pipeline-faas-example-dataset", "projectId": PROJECT, "nodes": [], "connections": [],
                   "startNodes": [], "variables": []}
CONNECTION_KEYS = {"src", "tgt", "action"}

#: flow -> {field path (dotted; a field only one side sends is named where it starts): why annotate differs}.
#: Values that differ only by the caller's choice (names, ids, colours, the recipe's title) are not listed.
DIFFERENCES: dict[str, dict[str, str]] = {
    "task from filter": {
        "metadata": "annotate adds metadata.user.annotate (the spec, for get_spec; the create call's id and the "
                    "job key, looked up when a create's outcome is unknown; creates.py). dtlpy sends metadata "
                    "only when the caller gives some, and keeps user keys verbatim (§3.5.2)",
    },
    "pulling": {
        "metadata.user": "the same metadata.user.annotate, next to dtlpy's metadata.system pulling settings",
    },
    "consensus": {},
    "qa": {
        "metadata": "metadata.user.annotate of the QA task: create id, job key and the parent task id (how a "
                    "rerun finds the QA task of a task)",
    },
    "add by filter": {},
    "add by items": {},
    "uploaded items task": {
        "emptyTask": "a task for items uploaded later starts empty ([O] TaskPayload.emptyTask; dtlpy never "
                     "sends it): its query is the job's folder, which holds nothing yet, and add_items adds the "
                     "items with addToTask",
    },
    "task node": {},
    "pipeline create": {
        "description": "annotate's mark, 'annotate job <key or call id> (building)': pipelines carry no user "
                       "metadata, and a lost create reply or a rerun finds the pipeline by it (pipeline.key_mark)",
    },
    "pipeline update": {
        "description": "the mark says '(ready)' in the same PATCH that adds the nodes: find_job returns only "
                       "built pipelines",
        "variables": "the items query job.start() executes (variable 'annotate_source', type Json): start() has "
                     "only the job id, and creating a job must not run anything (pipeline.source_variable)",
    },
    "connection": {
        "condition": "'{}' (no filter): [O] PipelineConnection requires it and Dataloop's own pipeline template "
                     "sends it, although dtlpy omits it (§3.14)",
    },
}
#: differences in values rather than fields, the same for every flow
VALUE_DIFFERENCES = {
    "query": "json.dumps(query) without dtlpy's .replace(\"'\", '\"'), which breaks any value holding an "
             "apostrophe (§6.5); equal otherwise",
    "dueDate": "no deadline: creation + 7 days, dtlpy's default rule for tasks and task nodes (the value is "
               "time-dependent, so the recorded node metadata leaves it out); with a deadline, the deadline "
               "in UTC (a naive datetime is UTC, never the machine's zone, §6.13)",
    "workload": "unequal weights: integer loads by largest remainder (dtlpy's Workload.generate splits equally; "
                "equal weights give its split exactly); e-mails lower-cased as dtlpy matches them (§1.4)",
    "maxBatchWorkload": "an explicit pulling distribution without max_batch_workload sends batch_size + 2, the "
                        "smallest Dataloop allows (dtlpy sends what the caller gives)",
    "recipe title": "a recipe annotate makes is titled '<spec name> (annotate[ <key>])' (dtlpy: '<dataset> "
                    "Default Recipe'): the title is how the job's recipe is found again",
}
