"""The scaffold's bookkeeping: glossary rows and README rows land where they belong."""

from __future__ import annotations

import pytest

from dlcourse.grading import authoring
from dlcourse.grading.scaffold import (
    _add_readme_rows,
    glossary_rows,
    new_chapter,
    sync_glossary,
)

GLOSSARY = """# Glossary

| English | 中文 | chapters |
|---|---|---|
| activation function | 激活函数 | 01_neuron |
| weight | 权重 | 01_neuron |
"""


def _course(tmp_path, table: str):
    nb = authoring.build_notebook([authoring.markdown("# Chapter 3"),
                                   authoring.markdown(f"### Glossary (术语表)\n\n{table}")])
    (tmp_path / "solutions" / "03_topic").mkdir(parents=True)
    authoring.write_notebook(nb, tmp_path / "solutions" / "03_topic" / "03_topic.ipynb")
    (tmp_path / "GLOSSARY.md").write_text(GLOSSARY, encoding="utf-8")
    return tmp_path


def test_glossary_rows_read_the_last_table():
    text = "| a | b |\n### Glossary (术语表)\n\n| English | 中文 |\n|---|---|\n| loss | 损失 |\n"
    assert glossary_rows(text) == [("loss", "损失")]
    assert glossary_rows("no table here") == []


def test_sync_adds_new_terms_in_order_and_the_chapter_to_known_ones(tmp_path):
    root = _course(tmp_path, "| English | 中文 |\n|---|---|\n| bias | 偏置 |\n| weight | 权重 |\n")
    added = sync_glossary(root)
    assert added == [("bias", "偏置", "03_topic"), ("weight", "权重", "03_topic")]
    lines = (root / "GLOSSARY.md").read_text(encoding="utf-8").splitlines()
    assert lines[-3:] == ["| activation function | 激活函数 | 01_neuron |",
                          "| bias | 偏置 | 03_topic |",
                          "| weight | 权重 | 01_neuron, 03_topic |"]
    assert sync_glossary(root) == [], "a second sync changes nothing"


def test_readme_rows_go_to_both_chapter_tables(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n| chapter | topic |\n|---|---|\n| `00_a` | a |\n\n"
                      "## For contributors\n\n| chapter | modules |\n|---|---|\n"
                      "| `00_a` | `widgets` |\n", encoding="utf-8")
    _add_readme_rows(readme, "01_b", "b things", "`data`")
    text = readme.read_text(encoding="utf-8")
    assert "| `00_a` | a |\n| `01_b` | b things (replace with the notes' section) |" in text
    assert text.endswith("| `00_a` | `widgets` |\n| `01_b` | `data` |\n")


@pytest.mark.parametrize("name", ["12", "12_Topic", "1_topic", "12-topic"])
def test_new_chapter_refuses_a_malformed_name(tmp_path, name):
    with pytest.raises(ValueError, match="NN_topic"):
        new_chapter(name, tmp_path)
