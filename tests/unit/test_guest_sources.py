"""Lint of the guest checks' C sources for harness misuse.

kselftest_harness.h expands ``ASSERT_EQ(a, b) TH_LOG(...)`` into two
statements: the comparison, then a loop that prints the log and bails out.
As the unbraced body of a ``for`` or ``while``, only the comparison repeats;
the log and the bail-out run once, after the loop, with the loop variable's
final value (a failure at fd 3 was reported as "fd 1024") and after the
failed iterations went on. Such loops must have braces.
"""

import re
from pathlib import Path

import pytest

GUEST = Path(__file__).resolve().parents[2] / "tests" / "guest"

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_LOOP = re.compile(r"\b(for|while)\s*\(")
_HARNESS_CHECK = re.compile(r"\b(ASSERT|EXPECT)_[A-Z_]+\s*\(")


def _blank(match: re.Match[str]) -> str:
    """Keep newlines so that reported line numbers stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _code(text: str) -> str:
    text = text.replace("\\\n", " \n")
    return _STRING.sub(_blank, _COMMENT.sub(_blank, text))


def _close_paren(code: str, open_at: int) -> int:
    """Index just past the parenthesis that closes the one at open_at."""
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(code)


def _statement_end(code: str, start: int) -> int:
    """Index just past the ';' that ends the statement starting at start."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] in "([{":
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
        elif code[i] == ";" and depth == 0:
            return i + 1
    return len(code)


def unbraced_checks(text: str) -> list[int]:
    """Lines of loops whose unbraced body holds an ASSERT_*/EXPECT_*."""
    code = _code(text)
    lines = []
    for loop in _LOOP.finditer(code):
        before = code[:loop.start()].rstrip()
        if loop.group(1) == "while" and before.endswith("}"):
            continue  # the tail of a do { } while ()
        body = _close_paren(code, loop.end() - 1)
        while body < len(code) and code[body].isspace():
            body += 1
        if body >= len(code) or code[body] in "{;":
            continue
        if _HARNESS_CHECK.search(code, body, _statement_end(code, body)):
            lines.append(code.count("\n", 0, loop.start()) + 1)
    return lines


@pytest.mark.parametrize("snippet, expected", [
    ("for (i = 0; i < n; i++)\n\tASSERT_EQ(0, f(i)) TH_LOG(\"i %d\", i);\n",
     [1]),
    ("while (x--)\n\tEXPECT_TRUE(g(x));\n", [1]),
    ("for (;;)\n\tif (h())\n\t\tASSERT_EQ(1, 1);\n", [1]),
    ("for (i = 0; i < n; i++) {\n\tASSERT_EQ(0, f(i)) TH_LOG(\"%d\", i);\n}\n",
     []),
    ("do {\n\tASSERT_EQ(0, f());\n} while (0);\n", []),
    ("#define M() \\\n\tdo { \\\n\t\tf(); \\\n\t} while (0)\n"
     "ASSERT_EQ(0, g());\n", []),
    ("while ((n = read(fd, b, 1)) > 0)\n\ttotal += n;\nASSERT_EQ(0, n);\n", []),
    ("/* for (;;) ASSERT_EQ(0, 1); */\nf(\"while (1) ASSERT_EQ(0, 1);\");\n",
     []),
])
def test_unbraced_checks_finds_the_pattern(snippet: str,
                                           expected: list[int]) -> None:
    assert unbraced_checks(snippet) == expected


def test_guest_checks_brace_every_loop_with_an_assert() -> None:
    sources = sorted(GUEST.glob("*.[ch]"))
    assert sources, f"no C sources under {GUEST}"
    found = [f"{src.name}:{line}" for src in sources
             for line in unbraced_checks(src.read_text())]
    assert not found, (
        "loops whose unbraced body holds an ASSERT_/EXPECT_ (the harness "
        "runs its TH_LOG and bail-out after the loop): " + ", ".join(found))
