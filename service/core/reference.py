"""Fixed lists of the trainee form: 56 ethnic groups (GB/T 3304), 政治面貌 (GB/T 4762)."""

import functools
import json
from importlib import resources


def _load(name):
    return json.loads(resources.files("service.core").joinpath(f"data/{name}.json").read_text("utf-8"))


@functools.cache
def ethnic_groups():
    return [item["name"] for item in _load("ethnic_groups")]


@functools.cache
def political_statuses():
    return [item["name"] for item in _load("political_statuses")]
