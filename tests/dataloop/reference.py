"""Request bodies dtlpy 1.126.5 sent on the wire, copied from shared/reference/dataloop-api.md ([W] tags).

Tests compare what annotate builds with these, so a drift from dtlpy's wire format fails loudly.
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
