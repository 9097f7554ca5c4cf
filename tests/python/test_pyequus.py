"""pyequus: the Python facade over the simulator (each simulation runs in a spawned process)."""

import math

import pytest

import pyequus

QUICK = dict(only=["A.1"], experiments=1, calls_scale=0.1)

# Appendix A, Table A.1 (ms per 1000 calls, mean and sd of 10 experiments), inc_invoke_reply row.
PUBLISHED_INVOKE_REPLY = {"0": (2863, 22), "1k": (3377, 25), "32k": (14570, 21), "64k": (26100, 15)}


@pytest.fixture(scope="module")
def a1():
    return pyequus.reproduce(seed=7, **QUICK)


def test_known_tables():
    tables = pyequus.known_tables()
    assert "A.1" in tables
    assert len(tables) == len(set(tables))


def test_reproduce_a1_frame(a1):
    assert list(a1.columns) == ["table", "row", "column", "simulated", "published", "published_sd", "unit",
                                "role", "rel_error", "size_bytes"]
    assert len(a1) > 0
    assert set(a1["table"]) == {"A.1"}
    assert (a1["simulated"] > 0).all()
    assert set(a1["role"]) <= {"calibration", "check", "prediction"}

    cell = a1[(a1["row"] == "inc_invoke_reply") & (a1["column"] == "0")]
    assert len(cell) == 1
    cell = cell.iloc[0]
    assert cell["simulated"] > 0
    assert cell["published"] == PUBLISHED_INVOKE_REPLY["0"][0]
    assert cell["published_sd"] == PUBLISHED_INVOKE_REPLY["0"][1]
    assert cell["rel_error"] == pytest.approx(cell["simulated"] / cell["published"] - 1)

    for column, (mean, sd) in PUBLISHED_INVOKE_REPLY.items():
        row = a1[(a1["row"] == "inc_invoke_reply") & (a1["column"] == column)]
        assert len(row) == 1, column
        assert row["published"].iloc[0] == mean
        assert row["published_sd"].iloc[0] == sd

    # Calibration and check cells compare with a dissertation figure; only predictions (withheld) lack one.
    assert a1.loc[a1["role"] != "prediction", "published"].notna().all()
    published = a1[a1["published"].notna()]
    unpublished = a1[a1["published"].isna()]
    assert unpublished["rel_error"].isna().all()
    assert all(math.isfinite(x) for x in published["rel_error"])


def test_unknown_table_is_value_error():
    with pytest.raises(ValueError, match="Z.9"):
        pyequus.reproduce(only=["Z.9"], experiments=1, calls_scale=0.1)


def test_bad_override_is_value_error():
    with pytest.raises(ValueError):
        pyequus.reproduce(overrides={"m68030.no_such_param": "1"}, **QUICK)


def test_same_seed_same_results(a1):
    again = pyequus.reproduce(seed=7, **QUICK)
    key = ["table", "row", "column"]
    left = a1.sort_values(key).reset_index(drop=True)
    right = again.sort_values(key).reset_index(drop=True)
    assert left[key].equals(right[key])
    assert left["simulated"].tolist() == right["simulated"].tolist()


def test_sweep_on_dask():
    df = pyequus.sweep("seed", [1, 2], **QUICK)
    assert list(df.columns) == ["seed"] + pyequus.COLUMNS
    assert sorted(set(df["seed"])) == [1, 2]
    assert (df["simulated"] > 0).all()
    assert len(df[df["seed"] == 1]) == len(df[df["seed"] == 2])


def test_the_public_api_is_typed():
    import pathlib
    import typing

    import pandas as pd

    # PEP 561: the marker is installed beside the package (the build copies it), and hints resolve.
    assert (pathlib.Path(pyequus.__file__).parent / "py.typed").is_file()
    assert typing.get_type_hints(pyequus.run)["return"] is pyequus.Results
    assert typing.get_type_hints(pyequus.reproduce)["return"] is pd.DataFrame
    assert typing.get_type_hints(pyequus.sweep_scenario)["return"] is pd.DataFrame
    assert typing.get_type_hints(pyequus.Results)["tables"] == dict[str, pd.DataFrame]
    assert isinstance(pyequus.__version__, str) and pyequus.__version__
