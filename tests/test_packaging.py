"""Packaging: the declared ranges admit what the tests run with, one version everywhere, LICENSE and
CITATION.cff present, and environment.json records every installed package and whether the tree was dirty."""

from __future__ import annotations

import tomllib
from importlib import metadata

import yaml
from conftest import ROOT
from packaging.requirements import Requirement

import goodhartlab


def test_installed_versions_are_inside_the_declared_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        req = Requirement(line)
        version = metadata.version(req.name).split("+")[0]  # torch's local "+cpu" tag is not part of a range
        assert req.specifier.contains(version, prereleases=True), f"{req.name} {version} is outside '{req.specifier}'"
        assert req.specifier and any(s.operator == "<" for s in req.specifier), f"{req.name}: no tested upper bound"
    assert project["version"] == goodhartlab.__version__


def test_license_and_citation():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and str(cff["version"]) == goodhartlab.__version__
    assert cff["title"] and cff["authors"]


def test_environment_records_every_package_and_the_dirty_flag():
    from goodhartlab.runner.execute import environment_info

    env = environment_info(7)
    packages = env["packages"]
    for name in (
        "transformers",
        "tokenizers",
        "scikit-learn",
        "torch",
        "numpy",
        "pydantic",
        "goodhartlab",
    ):
        assert packages.get(name), name
    assert len(packages) == len({d.metadata["Name"].lower().replace("_", "-") for d in metadata.distributions()})
    assert env["seed"] == 7 and isinstance(env["git_dirty"], bool) and len(env["git_commit"]) == 40
