"""scenarios/schema/scenario.schema.json: a valid draft 2020-12 schema that accepts every valid scenario and
rejects every invalid one a schema can judge (the corpus marks cross-reference-only cases NN-xref-*.json)."""

import json
import pathlib

import jsonschema
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "scenarios" / "schema" / "scenario.schema.json"
CORPUS = REPO / "tests" / "sim" / "scenarios"

VALID = sorted((CORPUS / "valid").glob("*.json")) + sorted((REPO / "scenarios").glob("*.json"))
INVALID = sorted((CORPUS / "invalid").glob("*.json"))
SCHEMA_LEVEL = [p for p in INVALID if not p.name[3:].startswith("xref-")]


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_valid():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_corpus_is_large_enough():
    assert len(INVALID) >= 32
    assert len(SCHEMA_LEVEL) >= 16
    assert len(list((CORPUS / "valid").glob("*.json"))) >= 2


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_scenario_validates(validator, path):
    doc = json.loads(path.read_text())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors


@pytest.mark.parametrize("path", SCHEMA_LEVEL, ids=lambda p: p.name)
def test_schema_level_invalid_scenario_is_rejected(validator, path):
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError:
        return  # a syntax error: rejected before any schema applies
    assert not validator.is_valid(doc), f"{path.name} passes the schema; its error is {expected_line(path)}"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_scenario_has_expected_line(path):
    line = expected_line(path)
    assert line.startswith("{file}: "), line


@pytest.mark.parametrize("path", [p for p in INVALID if p not in SCHEMA_LEVEL], ids=lambda p: p.name)
def test_xref_cases_are_well_formed_for_the_schema(validator, path):
    # Cross-reference cases must pass the schema, or they test a schema rule and are misnamed.
    doc = json.loads(path.read_text())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors


def expected_line(path):
    return path.with_suffix(".expected").read_text().splitlines()[0]
