"""Regions (GB/T 2260 six-digit codes): 31 provinces, 5 计划单列市 and 新疆生产建设兵团."""

import functools
import json
from importlib import resources


@functools.cache
def all_regions():
    text = resources.files("service.core").joinpath("data/regions.json").read_text("utf-8")
    return {r["code"]: r for r in json.loads(text)}


def is_valid(code):
    return code in all_regions()


def name_of(code):
    region = all_regions().get(code)
    return region["name"] if region else code
