"""The course data: found, verified by SHA-256, validated; clear messages otherwise."""
import pandas as pd
import pytest

from mlmcourse import data as course_data
from mlmcourse.errors import CourseError


def test_load_classroom_shape_and_types():
    df = course_data.load_classroom(download=False)
    assert df.shape == (1190, 12)
    assert df["schoolid"].nunique() == 107 and df["classid"].nunique() == 312
    assert str(df["mathkind"].dtype) == "int64" and str(df["ses"].dtype) == "float64"
    assert df["mathknow"].isna().sum() == 109


def test_sha256_matches_the_published_checksum():
    sums = (course_data.PROJECT_ROOT / "data" / "SHA256SUMS").read_text().split()
    assert sums[0] == course_data.CLASSROOM_SHA256
    assert course_data.sha256_of(course_data.find_classroom(download=False)) == course_data.CLASSROOM_SHA256


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No shared copy, an empty cache, no network."""
    monkeypatch.setenv("MLMCOURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(course_data, "candidate_paths", lambda: [tmp_path / "cache" / "classroom.csv"])

    def offline(*args, **kwargs):
        raise ConnectionError("no network in tests")

    import pooch
    monkeypatch.setattr(pooch, "retrieve", offline)
    return tmp_path / "cache"


def test_missing_file_offline_says_what_to_do(isolated):
    with pytest.raises(CourseError) as err:
        course_data.load_classroom()
    assert str(err.value).startswith(
        "The classroom data is not on this computer and could not be downloaded (ConnectionError). "
        "Connect to the internet and run `python -m mlmcourse data`")


def test_wrong_checksum_is_refused(isolated):
    isolated.mkdir(parents=True)
    (isolated / "classroom.csv").write_text("sex,minority\n1,0\n")
    with pytest.raises(CourseError) as err:
        course_data.load_classroom()
    assert "is not the course's classroom data: its SHA-256 is" in str(err.value)
    assert "Delete it and run `python -m mlmcourse data` again" in str(err.value)


def test_wrong_columns_are_named():
    df = pd.DataFrame({"sex": [1], "mathkind": [400]})
    with pytest.raises(CourseError) as err:
        course_data.validate_classroom(df, source="my.csv")
    assert str(err.value).startswith("my.csv does not have the classroom columns minority, mathgain, ses,")
