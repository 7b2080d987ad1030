"""Reading .py files and notebooks into the program the sandbox runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.submission import MAX_SOURCE_BYTES, Submission, SubmissionError, read_submission


def write_notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nbformat.write(new_notebook(cells=list(cells)), str(path))
    return path


def compiles(submission: Submission) -> bool:
    compile(submission.source, submission.name, "exec")
    return True


@pytest.fixture
def notebook(tmp_path: Path) -> Submission:
    path = write_notebook(
        tmp_path / "hw.ipynb",
        new_markdown_cell("# Homework\n%not code, a markdown cell"),
        new_code_cell("%matplotlib inline\nimport torch"),
        new_code_cell("!pip install torch\nx = torch.ones(3)\nfiles = !ls\ntorch.ones?"),
        new_code_cell("%%bash\necho hi\nexit 1"),
        new_code_cell("def f(x):\n    %time y = x * 2\n    return y"),
    )
    return read_submission(path)


def test_notebook_skips_ipython_syntax_and_keeps_line_numbers(notebook: Submission) -> None:
    assert notebook.kind == "ipynb" and notebook.name == "hw.ipynb"
    lines = notebook.source.splitlines()
    assert lines == [
        "pass  # skipped: %matplotlib inline",
        "import torch",
        "pass  # skipped: !pip install torch",
        "x = torch.ones(3)",
        "pass  # skipped: files = !ls",
        "pass  # skipped: torch.ones?",
        "pass  # skipped: %%bash",
        "# echo hi",
        "# exit 1",
        "def f(x):",
        "    pass  # skipped: %time y = x * 2",
        "    return y",
    ]
    assert compiles(notebook)
    assert "Homework" not in notebook.source


def test_notebook_notes_name_cell_and_line(notebook: Submission) -> None:
    assert notebook.notes == (
        "cell 2, line 1: skipped IPython magic `%matplotlib inline`",
        "cell 3, line 1: skipped shell command `!pip install torch`",
        "cell 3, line 3: skipped shell command `files = !ls`",
        "cell 3, line 4: skipped help request `torch.ones?`",
        "cell 4: skipped the whole cell, it runs the cell magic `%%bash`",
        "cell 5, line 2: skipped IPython magic `%time y = x * 2`",
    )


def test_notebook_cells_and_locate(notebook: Submission) -> None:
    # cell numbers count the markdown cell too: that is what a student counts in Jupyter
    assert [(c.index, c.first_line, c.line_count) for c in notebook.cells] == [
        (2, 1, 2), (3, 3, 4), (4, 7, 3), (5, 10, 3),
    ]
    assert notebook.cells[1].source == "!pip install torch\nx = torch.ones(3)\nfiles = !ls\ntorch.ones?\n"
    assert notebook.cells[0].origin_line is None
    assert notebook.locate(1) == "cell 2, line 1"
    assert notebook.locate(4) == "cell 3, line 2"
    assert notebook.locate(12) == "cell 5, line 3"
    assert notebook.locate(13) == "line 13"  # beyond the program: no cell to name


def test_percent_in_continuation_and_strings_is_python(tmp_path: Path) -> None:
    code = 'x = (7\n     % 3)\ndoc = """\n%not a magic\n!nor a shell\nWhy?\n"""\ny = 1 + \\\n  2\n'
    submission = read_submission(write_notebook(tmp_path / "a.ipynb", new_code_cell(code)))
    assert submission.source == code
    assert submission.notes == ()


def test_time_cell_magic_keeps_the_code(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "a.ipynb", new_code_cell("%%time\ndef f(x):\n    return x\n"))
    submission = read_submission(path)
    assert submission.source == "pass  # skipped: %%time\ndef f(x):\n    return x\n"
    assert submission.notes == ("cell 1, line 1: skipped cell magic `%%time` (the cell's code still runs)",)


def test_empty_notebook(tmp_path: Path) -> None:
    submission = read_submission(write_notebook(tmp_path / "a.ipynb", new_code_cell("")))
    assert submission.source == ""
    assert submission.cells[0].line_count == 0


def test_invalid_notebook(tmp_path: Path) -> None:
    for text in ["{not json", "[]", '{"cells": 3}']:
        (tmp_path / "bad.ipynb").write_text(text)
        with pytest.raises(SubmissionError, match="not a valid Jupyter notebook"):
            read_submission(tmp_path / "bad.ipynb")


def test_py_file_as_is(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_text("import torch\n\ndef f(x):\n    return x\n")
    submission = read_submission(path)
    assert submission.kind == "py"
    assert submission.source == path.read_text()
    assert submission.notes == ()
    assert [(c.index, c.first_line, c.origin_line) for c in submission.cells] == [(1, 1, 1)]
    assert submission.locate(3) == "line 3"


def test_py_percent_cells(tmp_path: Path) -> None:
    text = "import torch\n# %%\nx = 1\n\n#%% [markdown]\n# prose\n# %% second\ny = 2"
    path = tmp_path / "hw.py"
    path.write_text(text)
    submission = read_submission(path)
    assert submission.source == text
    assert [(c.index, c.first_line, c.source) for c in submission.cells] == [
        (1, 1, "import torch\n"),
        (2, 2, "# %%\nx = 1\n\n"),
        (4, 7, "# %% second\ny = 2\n"),
    ]
    assert submission.locate(8) == "line 8"


def test_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes("\ufeffx = 'é'\n".encode("utf-8"))
    submission = read_submission(path)
    assert submission.source == "x = 'é'\n"
    assert compiles(submission)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(b"")
    submission = read_submission(path)
    assert submission.source == "" and submission.cells == ()


@pytest.mark.parametrize(
    "data, detail",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "NUL bytes"),
        (b"x = 1\ny = '\xe9'\n", "line 2 contains the byte 0xe9"),
        ("x = 1\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_file(tmp_path: Path, data: bytes, detail: str) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(data)
    with pytest.raises(SubmissionError, match="is not a text file") as info:
        read_submission(path)
    assert detail in str(info.value)


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    with pytest.raises(SubmissionError, match="too large"):
        read_submission(path)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "hw.txt").write_text("x = 1")
    with pytest.raises(SubmissionError, match=r"neither a Python file \(.py\) nor a Jupyter notebook"):
        read_submission(tmp_path / "hw.txt")
    with pytest.raises(SubmissionError, match="does not exist"):
        read_submission(tmp_path / "nothing.py")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="holds no .py file"):
        read_submission(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / ".hidden.py").write_text("")
    (tmp_path / "hw.py").write_text("x = 1\n")
    submission = read_submission(tmp_path)
    assert submission.path == tmp_path / "hw.py" and submission.source == "x = 1\n"
    write_notebook(tmp_path / "hw.ipynb", new_code_cell("x = 1"))
    with pytest.raises(SubmissionError, match=r"holds 2 files .*\(hw.ipynb, hw.py\)"):
        read_submission(tmp_path)
