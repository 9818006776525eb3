"""Property: config resolution of every catalog experiment either resolves or raises the one-line UserError.

Hypothesis feeds random and adversarial values (as a user types them after ``--set field=``, and as YAML
files): wrong types, NaN/inf, booleans for numbers, huge and negative numbers, deep and aliased YAML, long
and odd strings, unknown and dotted field names. Whatever comes in, the message is one line of at most 500
characters, and nothing else escapes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodhartlab.core.config import resolve
from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import catalog, get

NAMES = sorted(catalog())

SCALARS = st.one_of(
    st.sampled_from(
        [
            ".nan",
            "nan",
            ".inf",
            "-.inf",
            "inf",
            "true",
            "false",
            "null",
            "~",
            "0",
            "-1",
            "1e400",
            "-0.0",
            "1e-400",
            "9" * 30,
            "-" + "9" * 30,
            "0x10",
            "'3'",
            "[]",
            "{}",
            "[[]]",
            "{a: 1}",
            "[.nan]",
            "[true, 1]",
            "&a [*a]",
            "[" * 80,
            "!!python/object:os.system ls",
            "é" * 300,
            "a" * 5000,
            "[" + ",".join(["1"] * 3000) + "]",
            "\x00",
            "'unterminated",
            "{a: [b, {c: d}]}",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=40),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"))


def check(cls, preset, assignments, config_file=None):
    try:
        resolve(cls, preset, config_file, assignments)
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) <= 500, message[:1000]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_resolution_resolves_or_is_one_user_error_line(name, data):
    cls = get(name).config
    fields = sorted(cls.model_fields)
    field = data.draw(
        st.one_of(
            st.sampled_from(fields),
            st.sampled_from(fields).map(lambda f: f + ".x"),
            st.text(min_size=1, max_size=30).filter(lambda t: "=" not in t),
        ),
        label="field",
    )
    value = data.draw(VALUES, label="value")
    preset = data.draw(st.sampled_from(["default", *cls.presets, "nosuch"]), label="preset")
    check(cls, preset, [f"{field}={value}"])


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_yaml_files_resolve_or_are_one_user_error_line(name, data, tmp_path):
    cls = get(name).config
    fields = sorted(cls.model_fields)
    chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True), label="fields")
    lines = [f"{f}: {data.draw(VALUES, label=f)}" for f in chosen]
    path = tmp_path / "config.yaml"
    path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogatepass"))
    check(cls, "default", [], path)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", ["é" * 300, "a" * 5000, "x/" * 3000])
def test_every_field_takes_a_name_too_long_for_a_path(name, value, tmp_path):
    """Regression (CI, hypothesis): a path field given 300 'é' made ``Path.is_file`` raise ENAMETOOLONG."""
    cls = get(name).config
    for field in sorted(cls.model_fields):
        check(cls, "default", [f"{field}={value}"])
        path = tmp_path / "config.yaml"
        path.write_text(f"{field}: '{value}'\n", encoding="utf-8")
        check(cls, "default", [], path)
