#!/usr/bin/env python3
"""Random chat templates and conversations, rendered by Jinja2 as transformers renders them.

tests/text/jinja_differential_test.cpp runs this, renders every case with our interpreter
(src/text/jinja.cpp) and requires the same string, or that both fail. The environment is the
one tests/data/chat_templates/make_expected.py builds (transformers' _compile_jinja_template:
ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, json.dumps tojson with
ensure_ascii=False, raise_exception), so the real-template goldens and these cases cannot drift
apart.

The templates come from a small typed grammar of what chat templates do: loops over messages
(slices with steps, selectattr/rejectattr, `for .. if ..`, loop.*, break/continue), if/elif/else,
set (plain, block, namespace attributes assigned inside loops), macros with defaults and keyword
arguments, filters and string methods, tests, comparisons and boolean operators, whitespace
control, raise_exception in reachable and unreachable branches. Expressions are typed so that most
cases render; the ones that fail (an undefined attribute, a type error, raise_exception) must
fail in both.

Objects in contexts and dict literals have sorted keys: our JSON objects iterate in key order,
Python's dicts in insertion order (a documented difference, docs/GENERATION.md).

Usage: gen_cases.py --seed S --count N [--out FILE]   (JSON lines; stdout without --out)
Each line: {"seed", "index", "template", "context"} and "expected", or "error": true with
"message" and "raised" (the text given to raise_exception, when that is what failed).
Exits 77 when jinja2 cannot be imported, so the test can skip.
"""
import argparse
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "data", "chat_templates"))
try:
    import jinja2
    from make_expected import env, sorted_keys
except ImportError as e:
    print("gen_cases.py: %s (Debian: apt install python3-jinja2)" % e, file=sys.stderr)
    sys.exit(77)

# Message text that exercises what differs between byte- and character-level string handling,
# Python's notion of whitespace and printability, and quoting in repr() and JSON.
TEXT_PIECES = [
    "Hello", "hi there", "héllo wörld", "日本語のテキスト", "emoji 😀 ok", "it's", 'say "hi"', "both ' and \"",
    "back\\slash", "tab\there", "line1\nline2", "  padded  ", "\n leading newline", "trailing newline\n",
    "<think>\nhmm\n</think>\n\nanswer", "a, b, c", "Straße", "ÄÖÜ éàç", "Ωμέγα σοφία", "nbsp\u00a0here\u00a0",
    "\u3000ideographic space\u3000", "zero\u200bwidth", "crlf\r\nline", "x", "", "   ", "<|im_end|>", "[INST]",
    "1st 2nd o'clock", "mIxEd-case_words (here)", "ǆ digraph", "e\u0301 combining",
]
WORDS = ["user", "assistant", "system", "tool", "a", "b", " ", "\n", ", ", "<|im_start|>", "[/INST]", "é", "日本",
         "😀", "it's", "x y", "--", "Hello", "hello", "HELLO", "\t", "\\d+\\s"]
ROLES = ["system", "user", "assistant", "tool"]
TOOL_NAMES = ["get_weather", "search", "calc"]

rand = random.Random()  # seeded per case in main()


def jinja_str(s):
    """A Jinja string literal for s, some characters written as Python's escapes (Jinja2 decodes
    literals as unicode-escape), and a backslash before a letter with no escape left alone."""
    q = '"' if rand.random() < 0.3 else "'"
    out = q
    for i, c in enumerate(s):
        if c == "\\" and s[i + 1:i + 2] in ("d", "s", "w") and rand.random() < 0.5:
            out += c  # "\d" is no escape: the backslash stays
        elif rand.random() < 0.05:
            o = ord(c)
            out += rand.choice(["\\x%02x" % o if o < 0x100 else "\\u%04x" % o if o < 0x10000 else "\\U%08x" % o,
                                "\\U%08x" % o, "\\%03o" % o if o < 0o400 else "\\U%08x" % o])
        elif c == q or c == "\\":
            out += "\\" + c
        elif c == "\n":
            out += "\\n"
        elif c == "\t":
            out += "\\t"
        else:
            out += c
    return out + q



def pick(*options):
    """One of (weight, thunk) pairs, by weight."""
    total = sum(w for w, _ in options)
    x = rand.random() * total
    for w, f in options:
        x -= w
        if x < 0:
            return f()
    return options[-1][1]()


# ------------------------------------------------------------------------ contexts

def text():
    return "".join(rand.choice(TEXT_PIECES) for _ in range(rand.randint(1, 3)))


def tool_call(i):
    args = {"city": text()} if rand.random() < 0.5 else {"query": text(), "count": rand.randint(1, 5)}
    return {"id": "call_%d" % i, "type": "function",
            "function": {"name": rand.choice(TOOL_NAMES),
                         "arguments": args if rand.random() < 0.6 else json.dumps(args, ensure_ascii=False)}}


def message(role):
    m = {"role": role, "content": text()}
    if role == "assistant" and rand.random() < 0.3:
        m["tool_calls"] = [tool_call(i) for i in range(rand.randint(1, 2))]
        r = rand.random()
        if r < 0.2:
            del m["content"]
        elif r < 0.3:
            m["content"] = None
    if role == "tool":
        m["tool_call_id"] = "call_0"
        if rand.random() < 0.5:
            m["name"] = rand.choice(TOOL_NAMES)
    if role == "user" and rand.random() < 0.05:
        m["content"] = [{"type": "text", "text": text()}]
    return m


def conversation():
    msgs = []
    if rand.random() < 0.5:
        msgs.append(message("system"))
    for i in range(rand.randint(0 if msgs else 1, 5)):
        role = "user" if i % 2 == 0 else "assistant"
        if role == "user" and rand.random() < 0.15:
            role = "tool"
        if rand.random() < 0.05:
            role = rand.choice(ROLES)
        msgs.append(message(role))
    return msgs


def context():
    ctx = {"messages": conversation()}
    if rand.random() < 0.8:
        ctx["add_generation_prompt"] = rand.random() < 0.5
    if rand.random() < 0.85:
        ctx["bos_token"] = rand.choice(["<s>", "<|begin_of_text|>", ""])
    if rand.random() < 0.85:
        ctx["eos_token"] = rand.choice(["</s>", "<|eot_id|>", "<|im_end|>"])
    if rand.random() < 0.3:
        ctx["tools"] = [{"type": "function", "function": {
            "name": n, "description": text(),
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
            for n in rand.sample(TOOL_NAMES, rand.randint(1, 2))]
    return sorted_keys(ctx)


# ------------------------------------------------------------------------ templates

class Scope:
    """Names visible at a point of the template, by type: str, int, bool, msg, msgs, strs, tc, ns
    (a namespace: its attribute types) and loop (the innermost loop variable, when inside one)."""

    def __init__(self, parent=None, loop=False):
        self.parent = parent
        self.names = {}
        self.loop = loop or (parent.loop if parent else False)
        self.hide_namespaces = False

    def child(self, loop=False):
        return Scope(self, loop)

    def of_type(self, t):
        out, s = {}, self
        while s:
            for k, v in s.names.items():
                out.setdefault(k, v)
            s = s.parent
        return [k for k, v in out.items() if v == t]

    def namespaces(self):
        if self.hide_namespaces:
            return {}
        out, s = {}, self
        while s:
            for k, v in s.names.items():
                if isinstance(v, dict):
                    out.setdefault(k, v)
            s = s.parent
        return out


class Gen:
    def __init__(self):
        self.fresh = 0
        self.macros = []  # (name, [param types], number of params with defaults)

    def name(self, prefix):
        self.fresh += 1
        return "%s%d" % (prefix, self.fresh)

    # ---- expressions: (text, atomic) pairs; atomic text needs no parentheses as an operand

    def atom(self, e):
        text, atomic = e
        return text if atomic else "(" + text + ")"

    def ns_attr(self, sc, t):
        opts = [(n, a) for n, attrs in sc.namespaces().items() for a, at in attrs.items() if at == t]
        if not opts:
            return None
        n, a = rand.choice(opts)
        return ("%s.%s" % (n, a), True)

    def var(self, sc, t):
        names = sc.of_type(t)
        return (rand.choice(names), True) if names else None

    def msg(self, sc, d):
        return pick(
            (4, lambda: self.var(sc, "msg") or self.msg_index(sc, d)),
            (1, lambda: self.msg_index(sc, d)),
        )

    def msg_index(self, sc, d):
        lst = self.atom(self.msgs(sc, d - 1))
        return pick(
            (3, lambda: ("%s[%d]" % (lst, rand.choice([0, -1, 1])), True)),
            (1, lambda: ("%s|first" % lst, False)),
            (1, lambda: ("%s|last" % lst, False)),
        )

    def msg_field(self, sc, d, field):
        m = self.atom(self.msg(sc, d))
        return ("%s[%s]" % (m, jinja_str(field)), True) if rand.random() < 0.2 else ("%s.%s" % (m, field), True)

    def s(self, sc, d):
        """A string expression."""
        leaves = [
            (3, lambda: (jinja_str(rand.choice(WORDS)), True)),
            (1, lambda: ("bos_token", True)),
            (1, lambda: ("eos_token", True)),
            (2, lambda: self.var(sc, "str") or (jinja_str(rand.choice(WORDS)), True)),
            (2, lambda: self.ns_attr(sc, "str") or ("bos_token", True)),
            (4, lambda: self.msg_field(sc, d, rand.choice(["role", "role", "content", "content", "content", "name"]))),
            (1, lambda: ("%s.function.name" % self.var(sc, "tc")[0], True) if self.var(sc, "tc") else ("eos_token", True)),
        ]
        if d <= 0:
            return pick(*leaves)
        a = lambda: self.atom(self.s(sc, d - 1))
        return pick(
            *leaves,
            (3, lambda: ("%s ~ %s" % (self.atom(self.any(sc, d - 1)), self.atom(self.any(sc, d - 1))), False)),
            (1, lambda: ("%s + %s" % (a(), a()), False)),
            (4, lambda: ("%s|%s" % (a(), rand.choice(["trim", "upper", "lower", "title", "capitalize", "string",
                                                        "first", "last"])), False)),
            # Of anything but a string (an undefined bos_token, say) reverse is a Python iterator,
            # always true, which ours is not.
            (1, lambda: ("%s|string|reverse" % a(), False)),
            (2, lambda: ("%s|replace(%s, %s)" % (a(), jinja_str(rand.choice(WORDS + [""])),
                                                 jinja_str(rand.choice(WORDS))), False)),
            (1, lambda: ("%s|default(%s)" % (a(), jinja_str(rand.choice(WORDS))), False)),
            (1, lambda: ("%s|default(%s, true)" % (a(), jinja_str(rand.choice(WORDS))), False)),
            (4, lambda: ("%s.%s()" % (a(), rand.choice(["strip", "lstrip", "rstrip", "upper", "lower", "title",
                                                         "capitalize"])), True)),
            (2, lambda: ("%s.%s(%s)" % (a(), rand.choice(["strip", "lstrip", "rstrip"]),
                                        jinja_str(rand.choice(["\n", " ", "ab", "<>", "é"]))), True)),
            (2, lambda: ("%s.replace(%s, %s)" % (a(), jinja_str(rand.choice(WORDS)), jinja_str(rand.choice(WORDS))),
                         True)),
            (2, lambda: ("%s.split(%s)[%d]" % (a(), jinja_str(rand.choice(["</think>", "\n", " ", ","])),
                                               rand.choice([0, -1])), True)),
            (1, lambda: ("%s.split()|join(%s)" % (a(), jinja_str(rand.choice(["-", " ", ""]))), False)),
            (3, lambda: ("%s[%s]" % (a(), rand.choice(["1:", ":-1", "::-1", "::2", "1:3", "-3:", "::-2"])), True)),
            (1, lambda: ("%s[%d]" % (a(), rand.choice([0, 1, -1])), True)),
            (2, lambda: ("%s if %s else %s" % (a(), self.atom(self.b(sc, d - 1)), a()), False)),
            (1, lambda: ("%s if %s" % (a(), self.atom(self.b(sc, d - 1))), False)),
            (2, lambda: ("%s|map(attribute=%s)|join(%s)" % (self.atom(self.msgs(sc, d - 1)),
                                                           jinja_str(rand.choice(["role", "content"])),
                                                           jinja_str(rand.choice([", ", "", "\n"]))), False)),
            (1, lambda: ("%s|join(%s)" % (self.atom(self.strs(sc, d - 1)), jinja_str(rand.choice([", ", "|"]))),
                         False)),
            (2, lambda: ("%s|tojson" % self.atom(self.any(sc, d - 1, json=True)), False)),
            (1, lambda: ("%s|tojson(indent=%d)" % (self.atom(self.any(sc, d - 1, json=True)), rand.choice([2, 4])),
                         False)),
            (1, lambda: ("%s|string" % self.atom(self.any(sc, d - 1, json=True)), False)),
            (1, lambda: ("%s.get(%s, %s)" % (self.atom(self.msg(sc, d - 1)),
                                             jinja_str(rand.choice(["name", "role", "missing"])),
                                             jinja_str("none")), True)),
            (2, lambda: self.macro_call(sc, d) or (jinja_str("m"), True)),
        )

    def i(self, sc, d):
        """An integer expression."""
        leaves = [
            (3, lambda: (str(rand.randint(0, 5)), True)),
            (3, lambda: ("loop.%s" % rand.choice(["index", "index0", "length", "revindex", "revindex0"]), True)
             if sc.loop else ("1", True)),
            (2, lambda: self.var(sc, "int") or ("2", True)),
            (2, lambda: self.ns_attr(sc, "int") or ("3", True)),
            (2, lambda: ("messages|length", False)),
        ]
        if d <= 0:
            return pick(*leaves)
        a = lambda: self.atom(self.i(sc, d - 1))
        return pick(
            *leaves,
            (2, lambda: ("%s|length" % self.atom(self.s(sc, d - 1)), False)),
            (2, lambda: ("%s|length" % self.atom(self.msgs(sc, d - 1)), False)),
            (1, lambda: ("%s|count" % self.atom(self.strs(sc, d - 1)), False)),
            (3, lambda: ("%s %s %s" % (a(), rand.choice(["+", "-", "*"]), a()), False)),
            (1, lambda: ("%s %s %d" % (a(), rand.choice(["//", "%"]), rand.randint(1, 3)), False)),
            (1, lambda: ("%s %s %s" % (a(), rand.choice(["//", "%"]), a()), False)),
            (1, lambda: ("-%s" % a(), False)),
            (1, lambda: ("%s|abs" % a(), False)),
            (1, lambda: ("%s.find(%s)" % (self.atom(self.s(sc, d - 1)), jinja_str(rand.choice(WORDS))), True)),
            (1, lambda: ("%s if %s else %s" % (a(), self.atom(self.b(sc, d - 1)), a()), False)),
            (1, lambda: ("[%s, %s]|%s" % (a(), a(), rand.choice(["max", "min", "sum"])), False)),
            (1, lambda: ("(%s / %d)|int" % (a(), rand.randint(1, 3)), False)),
        )

    def b(self, sc, d):
        """A boolean expression (or any value used as one)."""
        maybe_undefined = lambda: rand.choice(
            ["tools", "add_generation_prompt", "bos_token", "undefined_name", "enable_thinking"]
            + ["%s.%s" % (self.atom(self.msg(sc, 0)), f) for f in ["tool_calls", "content", "name", "missing"]])
        leaves = [
            (2, lambda: (rand.choice(["true", "false", "True", "none"]), True)),
            (2, lambda: ("add_generation_prompt", True)),
            (2, lambda: ("loop.%s" % rand.choice(["first", "last"]), True) if sc.loop else ("false", True)),
            (1, lambda: ("loop.%s is %sdefined" % (rand.choice(["previtem", "nextitem"]), rand.choice(["", "not "])), False)
             if sc.loop else ("true", True)),
            (2, lambda: self.var(sc, "bool") or ("true", True)),
            (2, lambda: self.ns_attr(sc, "bool") or ("false", True)),
            (3, lambda: ("%s is %s%s" % (maybe_undefined(), rand.choice(["", "not "]),
                                        rand.choice(["defined", "none", "string", "mapping", "iterable", "undefined"])),
                         False)),
            (3, lambda: ("%s.role == %s" % (self.atom(self.msg(sc, 0)), jinja_str(rand.choice(ROLES))), False)),
        ]
        if d <= 0:
            return pick(*leaves)
        a = lambda: self.atom(self.b(sc, d - 1))
        return pick(
            *leaves,
            (3, lambda: ("%s %s %s" % (self.atom(self.s(sc, d - 1)), rand.choice(["==", "!="]),
                                       self.atom(self.s(sc, d - 1))), False)),
            (3, lambda: ("%s %s %s" % (self.atom(self.i(sc, d - 1)), rand.choice(["==", "!=", "<", ">", "<=", ">="]),
                                       self.atom(self.i(sc, d - 1))), False)),
            (1, lambda: ("%s %s %s" % (self.atom(self.s(sc, d - 1)), rand.choice(["<", ">="]),
                                       self.atom(self.s(sc, d - 1))), False)),
            (2, lambda: ("%s %sin %s" % (self.atom(self.s(sc, d - 1)), rand.choice(["", "not "]),
                                        self.atom(self.s(sc, d - 1))), False)),
            (2, lambda: ("%s in %s" % (self.atom(self.s(sc, d - 1)),
                                       pick((1, lambda: "[%s]" % ", ".join(jinja_str(r) for r in rand.sample(ROLES, 2))),
                                            (1, lambda: self.atom(self.strs(sc, d - 1))))), False)),
            (1, lambda: ("%s in %s" % (jinja_str(rand.choice(["content", "tool_calls", "name"])),
                                       self.atom(self.msg(sc, d - 1))), False)),
            (2, lambda: ("not %s" % a(), False)),
            (3, lambda: ("%s %s %s" % (a(), rand.choice(["and", "or"]), a()), False)),
            (2, lambda: ("%s.%s(%s)" % (self.atom(self.s(sc, d - 1)), rand.choice(["startswith", "endswith"]),
                                        jinja_str(rand.choice(WORDS))), True)),
            (1, lambda: ("%s is %s" % (self.atom(self.i(sc, d - 1)), rand.choice(["even", "odd", "divisibleby 2",
                                                                               "divisibleby(3)", "number", "integer"])),
                         False)),
            (1, lambda: ("%s is %s" % (self.atom(self.s(sc, d - 1)), rand.choice(["lower", "upper", "string"])), False)),
            (1, lambda: ("%s is %s" % (self.atom(self.s(sc, d - 1)), rand.choice(["equalto %s", "eq %s", "ne %s"])
                                       % jinja_str(rand.choice(WORDS))), False)),
            (1, lambda: (self.atom(self.s(sc, d - 1)), True)),
            (1, lambda: (self.atom(self.msgs(sc, d - 1)), True)),
        )

    def msgs(self, sc, d):
        """A list of messages (or an iterable of them)."""
        leaves = [
            (5, lambda: ("messages", True)),
            (1, lambda: self.var(sc, "msgs") or ("messages", True)),
        ]
        if d <= 0:
            return pick(*leaves)
        a = lambda: self.atom(self.msgs(sc, d - 1))
        return pick(
            *leaves,
            (4, lambda: ("%s[%s]" % (a(), rand.choice(["1:", ":-1", "::-1", "::2", "1::2", "-2:", ":1", "::-2"])),
                         True)),
            (2, lambda: ("%s|reverse|list" % a(), False)),
            (3, lambda: ("%s|%s(%s, %s, %s)|list" % (a(), rand.choice(["selectattr", "rejectattr"]), jinja_str("role"),
                                                     jinja_str(rand.choice(["equalto", "eq", "==", "ne"])),
                                                     jinja_str(rand.choice(ROLES))), False)),
            (2, lambda: ("%s|%s(%s%s)|list" % (a(), rand.choice(["selectattr", "rejectattr"]),
                                               jinja_str(rand.choice(["tool_calls", "content", "name"])),
                                               rand.choice(["", ", 'defined'", ", 'undefined'", ", 'none'",
                                                            ", 'string'"])), False)),
            (1, lambda: ("%s if %s else %s" % (a(), self.atom(self.b(sc, d - 1)), a()), False)),
        )

    def strs(self, sc, d):
        """A list of strings."""
        return pick(
            (2, lambda: ("%s|map(attribute=%s)|list" % (self.atom(self.msgs(sc, d - 1)),
                                                        jinja_str(rand.choice(["role", "content"]))), False)),
            (2, lambda: ("[%s]" % ", ".join(jinja_str(rand.choice(WORDS)) for _ in range(rand.randint(0, 3))), True)),
            (1, lambda: ("%s.split(%s)" % (self.atom(self.s(sc, d - 1)), jinja_str(rand.choice([" ", "\n", ","]))),
                         True)),
            (1, lambda: ("%s.split()" % self.atom(self.s(sc, d - 1)), True)),
            (1, lambda: self.var(sc, "strs") or ("['a', 'b']", True)),
            (1, lambda: ("%s|unique|list" % self.atom(self.strs(sc, d - 1)), False)),
            (1, lambda: ("%s|map(%s)|list" % (self.atom(self.strs(sc, d - 1)),
                                              jinja_str(rand.choice(["upper", "lower", "trim"]))), False)),
        ) if d > 0 else (("['a', 'b']", True) if rand.random() < 0.5 else self.var(sc, "strs") or ("[]", True))

    def any(self, sc, d, json=False):
        return pick(
            (5, lambda: self.s(sc, d)),
            (2, lambda: self.i(sc, d)),
            (1, lambda: self.b(sc, d)),
            (1 if json else 0.2, lambda: self.msgs(sc, d)),
            (1 if json else 0.2, lambda: self.strs(sc, d)),
            (1 if json else 0.2, lambda: self.msg(sc, d)),
            (1 if json else 0, lambda: ("{%s}" % ", ".join(
                "%s: %s" % (jinja_str(k), self.atom(self.any(sc, d - 1))) for k in sorted(rand.sample(
                    ["name", "arguments", "type", "z"], rand.randint(0, 3)))), True)),
            (0.5, lambda: ("%s / %d" % (self.atom(self.i(sc, d - 1)), rand.randint(1, 4)), False)),
            (0.5 if json else 0, lambda: ("%s.function.arguments" % self.var(sc, "tc")[0], True)
             if self.var(sc, "tc") else ("tools", True)),
        )

    def macro_call(self, sc, d):
        if not self.macros:
            return None
        name, types, n_default = rand.choice(self.macros)
        n_args = rand.randint(len(types) - n_default, len(types))
        gens = {"str": self.s, "int": self.i, "msg": self.msg, "bool": self.b}
        args = [self.atom(gens[t](sc, d - 1)) for t in types[:n_args]]
        if n_args < len(types) and n_args > 0 and rand.random() < 0.5:  # the last one by keyword
            args[-1] = "p%d=%s" % (n_args - 1, args[-1])
        return ("%s(%s)" % (name, ", ".join(args)), True)

    # ---- statements

    def tag(self, body, block=True):
        """A tag with random whitespace control, sometimes on a line of its own (indented), where
        trim_blocks and lstrip_blocks apply."""
        lead = rand.choice(["", "", "", "\n", "\n  ", "\n\t", "  "]) if block else ""
        o = rand.choice(["", "", "-"])
        c = rand.choice(["", "", "-"])
        tail = rand.choice(["", "", "\n", "\n\n", " "]) if block else ""
        return "%s{%%%s %s %s%%}%s" % (lead, o, body, c, tail)

    def out(self, e):
        return "{{%s %s %s}}" % (rand.choice(["", "", "-"]), e, rand.choice(["", "", "-"]))

    def block(self, sc, d, n):
        return "".join(self.stmt(sc, d) for _ in range(n))

    def stmt(self, sc, d):
        options = [
            (3, lambda: rand.choice(["<|im_start|>", "[INST] ", "\n", "  ", "Text ", "\n    indented\n", "é😀", "'\""])),
            (6, lambda: self.out(self.any(sc, 2)[0])),
            (1, lambda: "{#%s comment %s#}" % (rand.choice(["", "-"]), rand.choice(["", "-"]))),
        ]
        if d > 0:
            options += [
                (3, lambda: self.if_stmt(sc, d)),
                (3, lambda: self.for_stmt(sc, d)),
                (2, lambda: self.set_stmt(sc, d)),
                (1, lambda: self.raise_stmt(sc, d)),
            ]
        if sc.namespaces():
            options.append((2, lambda: self.set_ns_stmt(sc)))
        if sc.loop:
            options.append((1, lambda: self.tag("if %s" % self.b(sc, 1)[0]) + self.tag(rand.choice(["break", "continue"]))
                            + self.tag("endif")))
        return pick(*options)

    def if_stmt(self, sc, d):
        out = self.tag("if %s" % self.b(sc, 2)[0]) + self.block(sc.child(), d - 1, rand.randint(1, 3))
        for _ in range(rand.choice([0, 0, 1, 2])):
            out += self.tag("elif %s" % self.b(sc, 2)[0]) + self.block(sc.child(), d - 1, rand.randint(1, 2))
        if rand.random() < 0.5:
            out += self.tag("else") + self.block(sc.child(), d - 1, rand.randint(1, 2))
        return out + self.tag("endif")

    def for_stmt(self, sc, d):
        inner = sc.child(loop=True)
        r = rand.random()
        if r < 0.6:
            var = self.name("message")
            inner.names[var] = "msg"
            head = "for %s in %s" % (var, self.atom(self.msgs(sc, 2)))  # a bare `if` would start a filter
            if rand.random() < 0.25:  # the filter sees the loop variable and the outer loop's loop.*
                filter_scope = sc.child()
                filter_scope.names[var] = "msg"
                head += " if %s" % self.b(filter_scope, 1)[0]
        elif r < 0.75 and sc.of_type("msg"):
            var = self.name("tool_call")
            inner.names[var] = "tc"
            head = "for %s in %s.tool_calls" % (var, rand.choice(sc.of_type("msg")))
        elif r < 0.85 and sc.of_type("tc"):
            k, v = self.name("key"), self.name("value")
            inner.names[k] = "str"
            head = "for %s, %s in %s.function.arguments|items" % (k, v, rand.choice(sc.of_type("tc")))
            if rand.random() < 0.5:
                head = "for %s, %s in %s.function.arguments.items()" % (k, v, rand.choice(sc.of_type("tc")))
        elif r < 0.9:
            var = self.name("i")
            inner.names[var] = "int"
            head = "for %s in range(%s)" % (var, rand.choice(["3", "messages|length", "1, 4"]))
        else:
            var = self.name("item")
            inner.names[var] = "str"
            head = "for %s in %s" % (var, self.atom(self.strs(sc, 2)))
        out = self.tag(head) + self.block(inner, d - 1, rand.randint(1, 4))
        if rand.random() < 0.1:
            out += self.tag("else") + self.block(sc.child(), d - 1, 1)
        return out + self.tag("endfor")

    def set_stmt(self, sc, d):
        var = self.name("v")
        t = rand.choice(["str", "str", "int", "bool", "msgs", "strs"])
        if t == "str" and rand.random() < 0.2:
            sc.names[var] = "str"
            return self.tag("set %s" % var) + self.block(sc.child(), 0, rand.randint(1, 2)) + self.tag("endset")
        e = {"str": self.s, "int": self.i, "bool": self.b, "msgs": self.msgs, "strs": self.strs}[t](sc, 2)[0]
        sc.names[var] = t
        return self.tag("set %s = %s" % (var, e))

    def set_ns_stmt(self, sc):
        n, attrs = rand.choice(list(sc.namespaces().items()))
        a, t = rand.choice(list(attrs.items()))
        # Grown by amounts that do not depend on the namespace: doubling in nested loops runs
        # out of memory (strings) or past 64 bits (Python's integers do not overflow, ours do).
        small = sc.child()
        small.hide_namespaces = True
        if t == "str":
            e = pick((2, lambda: "%s.%s ~ %s" % (n, a, self.atom(self.any(small, 1)))), (1, lambda: self.s(small, 1)[0]))
        elif t == "int":
            e = pick((2, lambda: "%s.%s + %s" % (n, a, self.atom(self.i(small, 0)))), (1, lambda: self.i(small, 1)[0]))
        else:
            e = self.b(sc, 1)[0]
        return self.tag("set %s.%s = %s" % (n, a, e))

    def raise_stmt(self, sc, d):
        msg = jinja_str(rand.choice(["Conversation roles must alternate", "bad role: ", "é😀 'quoted'"]))
        if rand.random() < 0.5:
            msg += " ~ %s" % self.atom(self.s(sc, 1))
        return self.tag("if %s" % self.b(sc, 2)[0]) + self.out("raise_exception(%s)" % msg) + self.tag("endif")

    def macro_def(self, top):
        name = self.name("render")
        types = [rand.choice(["str", "int", "msg", "bool"]) for _ in range(rand.randint(0, 3))]
        n_default = rand.randint(0, len(types))
        sc = top.child()
        params = []
        defaults = {"str": lambda: jinja_str(rand.choice(WORDS)), "int": lambda: str(rand.randint(0, 3)),
                    "bool": lambda: rand.choice(["true", "false"]), "msg": lambda: "messages[0]"}
        for k, t in enumerate(types):
            sc.names["p%d" % k] = t
            params.append("p%d" % k + ("=%s" % defaults[t]() if k >= len(types) - n_default else ""))
        body = self.block(sc, 1, rand.randint(1, 3))
        self.macros.append((name, types, n_default))
        return self.tag("macro %s(%s)" % (name, ", ".join(params))) + body + self.tag("endmacro")

    def template(self):
        top = Scope()
        top.names["messages"] = "msgs"
        out = ""
        if rand.random() < 0.6:
            ns = self.name("ns")
            attrs = {"text": "str", "count": "int", "flag": "bool"}
            top.names[ns] = dict(rand.sample(list(attrs.items()), rand.randint(1, 3)))
            init = {"str": "''", "int": "0", "bool": "false"}
            out += self.tag("set %s = namespace(%s)" % (ns, ", ".join(
                "%s=%s" % (a, init[t]) for a, t in top.names[ns].items())))
        for _ in range(rand.choice([0, 0, 1, 2])):
            out += self.macro_def(top)
        if rand.random() < 0.4:
            out += self.out("bos_token")
        out += self.block(top, 3, rand.randint(1, 4))
        if rand.random() < 0.5:
            out += self.tag("if add_generation_prompt") + rand.choice(["<|im_start|>assistant\n", "[ASSISTANT]"]) \
                + self.tag("endif")
        return out


def render(template, ctx):
    try:
        return {"expected": env.from_string(template).render(**ctx)}
    except jinja2.exceptions.TemplateSyntaxError:
        raise  # the grammar is meant to write valid templates only
    except Exception as e:  # noqa: BLE001 - any failure counts: both must fail
        # raise_exception raises a bare TemplateError; Jinja2's own errors are subclasses.
        raised = type(e) is jinja2.exceptions.TemplateError
        return {"error": True, "message": "%s: %s" % (type(e).__name__, e), **({"raised": str(e)} if raised else {})}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for index in range(args.count):
        rand.seed("%d:%d" % (args.seed, index))  # each case reproducible on its own
        while True:
            template = Gen().template()
            ctx = context()
            result = render(template, ctx)
            # `x|reverse` of a list (message content that is a list of parts, here) is a Python
            # iterator: its address in the output, or its failing to be indexed, is nothing to
            # compare. Our reverse gives a list.
            if not re.search(r" object at 0x|'(list_reverseiterator|reversed)' object", json.dumps(result)):
                break
        case = {"seed": args.seed, "index": index, "template": template, "context": ctx, **result}
        out.write(json.dumps(case, ensure_ascii=False, sort_keys=True) + "\n")
    out.close()


if __name__ == "__main__":
    main()
