"""Languages (grader/i18n.py): every student-facing text in English and Chinese, chosen with --lang.

The catalog is checked against the code with Babel's own extractor (the msgids the code and templates
use, grader/locale/babel.cfg), so a new message without a translation fails here, as does a compiled
.mo that is older than its .po. The command-line tests grade a real wrong submission in both languages;
the last tests hold every path a student reads in Chinese (trace mode, unreadable files, broken runs,
batch rows, the pytest plugin) to having no English sentence left.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from click.testing import CliRunner

from conftest import EXERCISES, MISTAKES, ROOT, feedback_text
from grader.cli import main
from grader.diagnose import TEXTS
from grader.i18n import CHECK_LABELS, LANGUAGES, LOCALE_DIR, locale_language, translator
from grader.report.text import LABELS
from grader.spec.model import localize

pytest_plugins = ["pytester"]  # test_pytest_plugin_has_a_language_option

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
Key = tuple[str | None, str]  # (msgctxt, msgid)


@lru_cache(maxsize=1)
def _extracted() -> dict[Key, str]:
    """Every msgid the code and the templates use, with where it was found."""
    with open(LOCALE_DIR / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"tr": None, "N_": None, "_": None, "gettext": None, "ngettext": (1, 2),
                "pgettext": ((1, "c"), 2)}
    found: dict[Key, str] = {}
    for filename, _line, message, _comments, context in extract_from_dir(
            ROOT / "grader", method_map, options_map, keywords=keywords):
        msgid = message[0] if isinstance(message, tuple) else message
        found[(context, msgid)] = filename
    return found


def _catalog(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "grader.po", "rb") as po:
        return read_po(po, locale=lang)


def _singular(message) -> str:  # noqa: ANN001 (a babel Message)
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _strings(message) -> list[str]:  # noqa: ANN001
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)s")


def _placeholders(text: str) -> set[str]:
    return {brace or percent for brace, percent in _PLACEHOLDER.findall(text.replace("{{", "").replace("}}", ""))}


# --------------------------------------------------------------------------- the catalogs


def test_extraction_finds_the_tables_and_the_templates() -> None:
    """The extractor sees what the code marks: a lost keyword would make the next test pass vacuously."""
    found = {msgid for _, msgid in _extracted()}
    assert {text.message for text in TEXTS.values()} <= found
    assert {text.hint for text in TEXTS.values()} <= found
    assert set(LABELS.values()) <= found
    assert set(CHECK_LABELS.values()) <= found
    assert "What went wrong" in found and "got − expected (lower panel)" in found  # report and plot templates


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_msgid_the_code_uses_has_a_translation(lang: str) -> None:
    catalog, used = _catalog(lang), _extracted()
    translated = {(m.context, _singular(m)) for m in catalog if m.id and all(_strings(m)) and not m.fuzzy}
    missing = {f"{where}: {msgid!r}" for (context, msgid), where in used.items() if (context, msgid) not in translated}
    assert not missing, "run scripts/update-translations and translate:\n" + "\n".join(sorted(missing))
    stale = {_singular(m) for m in catalog if m.id and (m.context, _singular(m)) not in used}
    assert not stale, f"msgids the code no longer uses (run scripts/update-translations): {sorted(stale)}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_placeholder(lang: str) -> None:
    """A translation that drops or renames {field} would raise (or silently lose a number) at run time."""
    for message in _catalog(lang):
        if message.id:
            for string in _strings(message):
                assert _placeholders(string) == _placeholders(_singular(message)), (message.id, string)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalog_matches_its_source(lang: str) -> None:
    """What gettext reads at run time (.mo) is what the .po says: scripts/update-translations compiles."""
    tr = translator(lang)
    for message in _catalog(lang):
        if message.id and not isinstance(message.id, tuple):
            got = tr.pgettext(message.context, message.id) if message.context else tr.gettext(message.id)
            assert got == message.string, message.id


def test_chinese_uses_the_books_terms_and_keeps_code_as_code() -> None:
    zh = translator("zh")
    assert "叶子节点" in zh(TEXTS["non_leaf_grad"].message, function="grad_dot")
    assert "计算图" in zh(TEXTS["retain_graph_missing"].message) and "retain_graph=True" in zh(
        TEXTS["retain_graph_missing"].message)
    assert "标量" in zh(TEXTS["nonscalar_backward"].message)
    assert "x.grad.zero_()" in zh(TEXTS["accumulated"].hint)
    # torch's own words stay as the traceback shows them
    assert '"Trying to backward through the graph a second time"' in zh(TEXTS["retain_graph_missing"].message)


def test_english_is_the_code_unchanged() -> None:
    en = translator("en")
    assert en(TEXTS["not_detached"].message, names="u") == "u was not detached: the gradient also flowed through u"
    with pytest.raises(ValueError):
        translator("fr")


# --------------------------------------------------------------------------- choosing the language


@pytest.mark.parametrize("environ, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL wins over LANG
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LANGUAGE": "fr:zh_CN:en", "LANG": "en_US.UTF-8"}, "zh"),  # the first supported entry of the list
    ({"LANGUAGE": "", "LANG": "zh_CN"}, "zh"),  # empty variables are skipped
])
def test_language_from_the_locale(environ: dict[str, str], lang: str) -> None:
    assert locale_language(environ) == lang


# --------------------------------------------------------------------------- specs


def test_every_bundled_exercise_speaks_chinese(catalog) -> None:
    for exercise in catalog.values():
        assert exercise.title_zh and exercise.prompt_zh, exercise.id
        assert len(exercise.hints_zh) == len(exercise.hints), exercise.id
        assert all(m.message_zh and m.hint_zh for m in exercise.mistakes), exercise.id
        assert all(e.label_zh and e.hint_zh for e in exercise.expectations), exercise.id


def test_localize_uses_the_specs_translations(catalog) -> None:
    exercise = catalog["control_flow"]
    zh = localize(exercise, "zh")
    assert (zh.title, zh.prompt, zh.hints) == (exercise.title_zh, exercise.prompt_zh, exercise.hints_zh)
    assert zh.mistakes[0].message == exercise.mistakes[0].message_zh
    assert zh.mistakes[0].reference == exercise.mistakes[0].reference  # what is computed stays the same
    assert localize(exercise, "en") is exercise


# --------------------------------------------------------------------------- the command line


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--exercises", str(EXERCISES), "--no-color"], catch_exceptions=False)
    return result.exit_code, result.output


def _check(*args: str) -> tuple[int, str]:
    return _cli("check", str(MISTAKES / "detach" / "no_detach.py"), "--only", "detach", *args)


def test_check_in_chinese_names_the_mistake_in_chinese(tmp_path: Path) -> None:
    code, out = _check("--lang", "zh", "--html", str(tmp_path / "report.html"),
                       "--format", f"json:{tmp_path / 'report.json'}")
    assert code == 1
    assert "✗ 未通过  detach · 分离计算 (4/10)" in out  # status and the spec's Chinese title
    assert "u 没有被分离：梯度也流经了 u" in out  # the diagnosis
    assert "提示：使用 .detach() 把子表达式当作常数。" in out  # its hint
    assert "提示：分离 y，而不是 x" in out  # the spec's hints_zh
    assert "参考答案 0/5 通过" in out and "固定用例 1" in out  # check names, counts, trials
    assert "得到 27.0，期望值 9.0" in out  # the comparison's words
    assert "0/1 个练习通过 · 得分 4/10" in out
    assert "was not detached" not in out and " passed" not in out

    document = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert document["lang"] == "zh"
    assert document["exercises"][0]["diagnoses"][0]["code"] == "not_detached"  # codes stay language-neutral
    assert document["exercises"][0]["checks"][0]["name"] == "reference"

    page = (tmp_path / "report.html").read_text("utf-8")
    assert '<html lang="zh">' in page
    for label in ("评分报告", "概览", "题目", "问题所在", "提示：", "误差最大的不匹配项", "各项检查", "分离计算",
                  "u 没有被分离", "有时，我们希望将某些计算移动到记录的计算图之外"):
        assert label in page, label
    assert "What went wrong" not in page and "Worst mismatches" not in page


def test_check_in_english_is_unchanged() -> None:
    code, out = _check("--lang", "en")
    assert code == 1
    assert "✗ failed  detach · Detaching computation (4/10)" in out
    assert "• u was not detached: the gradient also flowed through u" in out
    assert "hint: Use .detach() to treat a sub-expression as a constant." in out
    assert not re.search(r"[\u4e00-\u9fff]", out)  # not one Chinese character


def test_check_follows_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "u 没有被分离" in _check()[1]
    assert "u was not detached" in _check("--lang", "en")[1]  # --lang wins over the locale


# --------------------------------------------------------------------------- the other report formats


def _zh_result():
    from grader.results import ExerciseResult, SubmissionResult
    from grader.submission import Note

    note = Note("cell {cell}, line {line}: skipped {kind} `{statement}`",
                {"cell": 2, "line": 1, "kind": Note("shell command"), "statement": "!ls"})
    exercise = ExerciseResult("detach", "分离计算", "failed", 4.0, 10.0, message="u 没有被分离", output="hi")
    return SubmissionResult(submission="hw.py", score=4.0, max_score=10.0, exercises=[exercise],
                            notes=[note.text(translator("zh"))], seed=0, lang="zh")


def test_markdown_junit_gradescope_github_speak_chinese() -> None:
    from grader.report.github import render_github
    from grader.report.gradescope import render_gradescope
    from grader.report.junit import render_junit
    from grader.report.markdown import render_markdown

    result = _zh_result()
    markdown = render_markdown(result)
    assert "0/1 个练习通过 · 得分 **4/10**" in markdown and "| 状态 | 练习 | 标题 | 得分 |" in markdown
    assert "❌ 未通过" in markdown and "<summary>详情</summary>" in markdown
    assert "第 2 个单元格第 1 行：跳过了 shell 命令 \\`\\!ls\\`" in markdown
    assert "failed" not in markdown and "score" not in markdown
    junit = render_junit(result)
    assert "--- detach 的输出 ---" in junit and "✗ 未通过" in junit and 'type="failed"' in junit
    document = json.loads(render_gradescope(result))
    assert "0/1 个练习通过" in document["output"] and document["tests"][0]["status"] == "failed"
    assert "未通过" in document["tests"][0]["output"]
    assert "detach 未通过（4/10）：分离计算" in render_github(result)


def test_dashboard_speaks_the_results_language() -> None:
    from grader.report.dashboard import ClassStats, render_dashboard

    stats = ClassStats([("detach", "分离计算")])
    stats.add("ada", _zh_result().to_dict() if hasattr(_zh_result(), "to_dict") else {"lang": "zh", "score": 4,
                                                                                         "max_score": 10})
    page = render_dashboard(stats)
    assert '<html lang="zh">' in page and "班级成绩" in page and "无法运行的提交" in page
    assert "Class results" in render_dashboard(ClassStats([]))


def test_pytest_plugin_has_a_language_option(pytester: pytest.Pytester) -> None:
    assert "--grader-lang" in pytester.runpytest_inprocess("--help").stdout.str()
    pytester.makeini("[pytest]\ngrader_lang = fr\n")
    result = pytester.runpytest_inprocess()
    assert result.ret != 0 and "grader_lang" in "\n".join(result.errlines + result.outlines)


# --------------------------------------------------------------------------- no English left in Chinese

# Five English words in a row are a sentence nobody translated; code (x.grad.zero_(), y = x * x) is not one.
_ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,}){4,}\b")
_QUOTED = re.compile(r'"[^"]*"')  # torch's own words stay as the traceback shows them, quoted


def _english_sentences(*texts: str) -> list[str]:
    return [found for text in texts for found in _ENGLISH_SENTENCE.findall(_QUOTED.sub("", text))]


def test_english_sentences_are_found() -> None:
    """The detector the tests below rely on: English prose is caught, Chinese around code and quotes is not."""
    assert _english_sentences("no backward() ran through the same graph twice: call y.backward() again")
    assert not _english_sentences('没有在同一个计算图上运行两次 backward()：再调用 y.backward()（retain_graph=True）',
                                  '抛出了 "Trying to backward through the graph a second time"')


@pytest.mark.parametrize("name", ["bob_script.py", "carl_no_autograd.ipynb"])
def test_trace_mode_feedback_is_chinese(tmp_path: Path, name: str) -> None:
    """A wrong notebook and a wrong script graded in trace mode (chosen from what they define): every
    message, trial, hint and note in Chinese, places named as the student counts them."""
    report = tmp_path / "report.json"
    code, out = _cli("check", str(ROOT / "tests" / "trace" / name), "--lang", "zh", "--format", f"json:{report}")
    assert code == 1, out
    document = json.loads(report.read_text("utf-8"))
    exercise = document["exercises"][0]
    assert exercise["id"] == "d2l_autograd_notebook" and exercise["status"] == "failed"
    texts = [exercise["message"], *exercise["hints"], *document["notes"]]
    texts += [f"{d['message']} {d['hint']}" for d in exercise["diagnoses"]]
    texts += [f"{c['message']} {t['trial']} {t['message']}" for c in exercise["checks"] for t in c["trials"]]
    assert not _english_sentences(*texts)
    assert "以跟踪模式评分" in document["notes"][0]
    feedback = "\n".join(texts)
    assert "叶子节点" in feedback
    if name.endswith(".py"):
        assert "跳过了 shell 命令 `!pip install d2l`" in feedback  # the cells' skipped lines, as notes
        assert "最接近的是：第 68 行：backward() 给出了一个形状为 [] 的叶子节点" in feedback
        assert "第 55 行定义的 f" in feedback and "以另一条曲线的数值作为横坐标" in feedback
    else:
        assert "不是由自动微分得到的：第 5 个单元格绘制的曲线" in feedback  # a notebook's places are its cells


def _trace_judged(outcome, grader_, catalog, tmp_path: Path):  # noqa: ANN001, ANN202
    """A trace-mode result in Chinese from a made-up run of the child (no process: judging is pure)."""
    from grader.grading import exercise_limits
    from grader.spec.model import localize
    from grader.submission import read_submission
    from grader.trace.evidence import parse_trace
    from grader.trace.judge import judge_trace

    exercise = localize(catalog["d2l_autograd_notebook"], "zh")
    path = tmp_path / "notebook.py"
    path.write_text("# %%\nwhile True:\n    pass\n")
    return judge_trace(exercise, grader_.prepare(exercise)[0], parse_trace(outcome), read_submission(path),
                       exercise_limits(exercise), translator("zh"))


def test_broken_runs_are_reasons_in_chinese(grader_, catalog, tmp_path: Path) -> None:
    """Timeouts and malformed results become the student's reason in their language; the sandbox's own
    details (a ChannelError's words) are kept inside it."""
    from grader.i18n import Message
    from grader.sandbox.channel import Frame
    from grader.sandbox.runner import FOREIGN_WRITER, RunOutcome

    timed_out = _trace_judged(RunOutcome(timed_out=True), grader_, catalog, tmp_path)
    assert timed_out.status == "error" and timed_out.message.startswith("超出时间限制：代码未能在 30 秒内完成")
    malformed = RunOutcome(frames=[Frame({"event": "start"}, b""), Frame({"event": "smuggled"}, b"")], exit_code=-9)
    result = _trace_judged(malformed, grader_, catalog, tmp_path)
    assert result.message == "运行提交代码的进程返回了格式错误的结果（unexpected frame 'smuggled'）"
    foreign = RunOutcome(channel_error=Message(FOREIGN_WRITER, {"error": "header is not JSON"}))  # as the runner says it
    assert "有别的内容写入了评分器的结果通道（header is not JSON）" in _trace_judged(foreign, grader_, catalog,
                                                                                tmp_path).message

    cell = {"event": "cell", "index": 1, "status": "error", "records": [], "curves": [],
            "error": {"type": "CellTimeout", "message": "the cell ran longer than its share of the time limit",
                      "line": 2}}
    hung = _trace_judged(RunOutcome(frames=[Frame(cell, b""), Frame({"event": "done"}, b"")]), grader_, catalog,
                         tmp_path)
    assert "第 2 行抛出了异常：你的代码抛出了 CellTimeout: 运行时间超过了它在时间限制中所占的份额" in hung.diagnoses[0].message
    assert not _english_sentences(timed_out.message, feedback_text(hung))


def test_submission_errors_are_worded_by_the_caller(tmp_path: Path) -> None:
    """A file is refused before the language is known: the error keeps its msgid, ``str`` is English."""
    import pickle

    from grader.submission import SubmissionError, read_submission

    path = tmp_path / "hw.py"
    path.write_bytes("def grad_dot(x):\n    return 4 * x\n".encode("utf-16"))
    with pytest.raises(SubmissionError) as info:
        read_submission(path)
    assert str(info.value) == ("hw.py is not a text file in UTF-8 (it was saved as UTF-16); save it with UTF-8 "
                               "encoding and hand it in again.")
    zh = "hw.py 不是 UTF-8 编码的文本文件（它以 UTF-16 编码保存）；请以 UTF-8 编码保存后重新提交。"
    assert info.value.text(translator("zh")) == zh
    assert pickle.loads(pickle.dumps(info.value)).text(translator("zh")) == zh  # it crosses processes whole
    code, out = _cli("check", str(path), "--lang", "zh")
    assert code == 2 and zh in out


def test_batch_rows_are_chinese(sandbox, catalog) -> None:
    """What a batch writes for files it cannot grade: unreadable, not UTF-8, nothing handed in."""
    from grader.batch.discover import Student
    from grader.batch.grade import HandIn, error_result, grade_hand_in
    from grader.grading import Grader

    chosen = [catalog["dot"], catalog["detach"]]
    hand_in = HandIn("ann", (("dot.py", "Permission denied"), ("notes.py", "x = 1\n".encode("utf-16"))))
    result = grade_hand_in(Grader(sandbox, lang="zh"), hand_in, list(catalog.values()), chosen, {})
    dot, detach = result.exercises
    assert dot.message == "无法读取 dot.py：Permission denied。"
    assert detach.message.startswith("notes.py 不是 UTF-8 编码的文本文件")
    assert result.notes == [f"已跳过：{detach.message}"]
    empty = error_result("bo", chosen, Student("bo", "Bo").problem, seed=0, lang="zh")
    assert empty.notes == ["提交为空：没有交任何文件"] and empty.exercises[0].message == "提交为空：没有交任何文件"
    assert [e.title for e in empty.exercises] == [localize(e, "zh").title for e in chosen]
    assert not _english_sentences(*result.notes, dot.message, *empty.notes)


def test_headline_falls_back_to_the_status_in_the_results_language() -> None:
    from grader.report.junit import render_junit
    from grader.results import ExerciseResult, SubmissionResult

    bare = ExerciseResult("detach", "分离计算", "failed", 0.0, 10.0)  # no message, no diagnosis
    junit = render_junit(SubmissionResult(submission="hw.py", score=0.0, max_score=10.0, exercises=[bare], lang="zh"))
    assert 'message="未通过"' in junit and 'message="failed"' not in junit


def test_pytest_items_and_failures_speak_chinese(homework: pytest.Pytester) -> None:
    run = homework.runpytest_subprocess("--grader-submission", "homework.py", "--grader-exercises", str(EXERCISES),
                                        "--grader-lang", "zh", "-k", "detach", "-p", "no:cacheprovider")
    run.assert_outcomes(failed=1, deselected=9)
    run.stdout.fnmatch_lines(["*_ detach：分离计算 _*", "✗ 未通过  detach · 分离计算 (4/10)",
                              "*• u 没有被分离：梯度也流经了 u"])
    (homework.path / "homework.py").write_bytes("x = 1\n".encode("utf-16"))
    refused = homework.runpytest_subprocess("--grader-submission", "homework.py", "--grader-lang", "zh",
                                            "-p", "no:cacheprovider")
    refused.stdout.fnmatch_lines(["*grader: homework.py 不是 UTF-8 编码的文本文件*"])


def test_tampering_and_review_flags_are_worded_in_chinese(tmp_path, sandbox, catalog) -> None:
    """What the harness reports (as codes) and what the static review flags, in the result's language."""
    from grader.grading import Grader
    from grader.submission import read_submission

    path = tmp_path / "peek.py"
    path.write_text("import sys\nimport torch\n\ndef grad_dot(x):\n    sys._getframe(0)\n"
                    "    x.requires_grad_(True)\n    (2 * torch.dot(x, x)).backward()\n    return x.grad\n")
    result = Grader(sandbox, lang="zh").grade(read_submission(path), [catalog["dot"]])
    (dot,) = result.exercises
    tampering = next(d for d in dot.diagnoses if d.code == "tampering")
    assert "sys._getframe" in tampering.message and tampering.line == 5
    assert not _english_sentences(tampering.message, *(c.message for c in dot.checks))
    flags = {f.code: f.message for f in result.review}
    assert "sys._getframe" in flags["inspects_frames"] and not _english_sentences(*flags.values())


def test_a_hidden_check_names_its_concept_in_the_students_language(tmp_path, catalog) -> None:
    from grader.spec.hidden import load_hidden

    (tmp_path / "detach.yaml").write_text(
        'exercise: detach\nconcept: "u stays constant for matrices too"\nconcept_zh: "对矩阵，u 同样是常数"\n'
        'weight: 1\ntrials:\n  random: 1\n')
    checks = load_hidden(tmp_path, list(catalog.values()))["detach"]
    assert checks.concept_in("zh") == "对矩阵，u 同样是常数" and checks.concept_in("en") == "u stays constant for matrices too"
