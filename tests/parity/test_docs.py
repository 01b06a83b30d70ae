"""docs/adding_a_neuron_model.md's example is the code that tests/unit/docs_example_test.cpp
compiles and runs (DocsExampleTest), character for character."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_example_is_the_compiled_one():
    source = (ROOT / "tests/unit/docs_example_test.cpp").read_text()
    begin, end = "// [doc-example begin]\n", "// [doc-example end]"
    assert source.count(begin) == 1 and source.count(end) == 1
    example = source[source.index(begin) + len(begin):source.index(end)]
    doc = (ROOT / "docs/adding_a_neuron_model.md").read_text()
    assert "```cpp\n" + example + "```" in doc, \
        "the document's example differs from tests/unit/docs_example_test.cpp"
