#!/usr/bin/env python3
"""Writes cases.json: each real-world chat template here rendered by Jinja2 (Debian's
python3-jinja2) the way transformers' apply_chat_template renders it: an immutable sandboxed
environment with trim_blocks, lstrip_blocks and loopcontrols, tojson as json.dumps, and
raise_exception. The C++ test (tests/text/real_chat_templates_test.cpp) renders the same
templates and contexts with src/text/jinja.cpp and must produce the same strings.

Objects are given with their keys sorted (object_pairs_hook below): our JSON objects iterate
in key order, Python dicts in insertion order, and tojson/items() show the order.

Run: python3 tests/data/chat_templates/make_expected.py   (rewrites cases.json)
"""
import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def sorted_keys(value):
    return json.loads(json.dumps(value), object_pairs_hook=lambda pairs: dict(sorted(pairs)))


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}

CASES = [
    ("qwen3-system-user", "qwen3.jinja", {
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there"}],
        "add_generation_prompt": True}),
    ("qwen3-multiturn-thinking", "qwen3.jinja", {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
            {"role": "user", "content": "and 3+3?"},
            {"role": "assistant", "content": "<think>\nagain\n</think>\n\n6"}],
        "add_generation_prompt": False}),
    ("qwen3-tools-no-thinking", "qwen3.jinja", {
        "messages": [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]},
            {"role": "tool", "content": "{\"temp\": 21}"},
            {"role": "tool", "content": "{\"temp\": 25}"},
        ],
        "tools": [WEATHER_TOOL], "add_generation_prompt": True, "enable_thinking": False}),
    ("mistral-system-multiturn", "mistral-v0.3.jinja", {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "  Hi!  "},
            {"role": "user", "content": "Bye"}],
        "bos_token": "<s>", "eos_token": "</s>"}),
    ("mistral-tools", "mistral-v0.3.jinja", {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"id": "abc123xyz", "type": "function", "function": {
                "name": "get_weather", "arguments": {"city": "Paris"}}}]},
            {"role": "tool", "tool_call_id": "abc123xyz", "content": "21 C"},
            {"role": "assistant", "content": "It is 21 C."},
            {"role": "user", "content": "Thanks"}],
        "tools": [WEATHER_TOOL], "bos_token": "<s>", "eos_token": "</s>"}),
    ("mistral-roles-must-alternate", "mistral-v0.3.jinja", {
        "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        "bos_token": "<s>", "eos_token": "</s>"}),
    ("llama3.1-system-user", "llama-3.1.jinja", {
        "messages": [{"role": "system", "content": "  You are helpful. "}, {"role": "user", "content": "Hi"}],
        "bos_token": "<|begin_of_text|>", "add_generation_prompt": True}),
    ("llama3.1-tools-in-user-message", "llama-3.1.jinja", {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                "name": "get_weather", "arguments": {"city": "Paris"}}}]},
            {"role": "tool", "content": "21 C"}],
        "tools": [WEATHER_TOOL], "bos_token": "<|begin_of_text|>", "add_generation_prompt": True}),
    ("llama3.1-builtin-tools", "llama-3.1.jinja", {
        "messages": [
            {"role": "system", "content": "Search when needed."},
            {"role": "user", "content": "News?"},
            {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                "name": "brave_search", "arguments": {"query": "news today", "count": "3"}}}]},
            {"role": "ipython", "content": {"results": ["a", "b"]}}],
        "builtin_tools": ["code_interpreter", "brave_search", "wolfram_alpha"], "tools_in_user_message": False,
        "date_string": "04 Dec 2026", "bos_token": "<|begin_of_text|>", "add_generation_prompt": True}),
    ("llama3-multiturn", "llama-3.jinja", {
        "messages": [
            {"role": "system", "content": "Sys "},
            {"role": "user", "content": " Hi"},
            {"role": "assistant", "content": "Hello!"}],
        "bos_token": "<|begin_of_text|>", "add_generation_prompt": True}),
]


def main():
    out = []
    for name, template_file, context in CASES:
        context = sorted_keys(context)
        with open(os.path.join(HERE, template_file), encoding="utf-8") as f:
            source = f.read()
        case = {"name": name, "template": template_file, "context": context}
        try:
            case["expected"] = env.from_string(source).render(**context)
        except jinja2.exceptions.TemplateError as e:
            case["error"] = str(e)
        out.append(case)
    with open(os.path.join(HERE, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "make_expected.py with jinja2 " + jinja2.__version__, "cases": out}, f, indent=1,
                  ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
