"""The visitor's own graph: edge lists read whole or refused with the line named; a compact code for links."""

import numpy as np
import pytest

from app.lessons import graph_layout as experiments
from app.lessons import own_graph as og
from app.ml import graph_layout as gl


def test_a_good_edge_list_with_header_comments_and_mixed_separators():
    graph = og.parse_edge_list("source,target\n# a comment\n\nalice bob\nbob,carol\n3;4\ncarol\t3\nbob alice\n")
    assert graph.n == 5 and graph.names == ("alice", "bob", "carol", "3", "4")
    assert graph.edges.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert og.parse_edge_list(b"\xef\xbb\xbf1 2\r\n2 3\r\n").n == 3      # UTF-8 with BOM, Windows lines


@pytest.mark.parametrize("data, words", [
    ("", ["empty"]),
    ("source,target\n", ["empty"]),
    ("  \n# only a comment\n", ["empty"]),
    ("1 2\n3\n", ["line 2", "one field"]),
    ("1 2\n2 3 4\n", ["line 2", "3 fields"]),
    ("1 2\n5 5\n", ["line 2", "itself"]),
    ("1 2\na$ b\n", ["line 2", "a$", "not a node name"]),
    ("1 " + "x" * 30 + "\n", ["line 1", "longer than 24"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", ["binary"]),
    (b"\xff\xfe\xfa 1 2", ["not text"]),
    ("1 2\n" * 10 + "x" * (og.FILE_BYTES_MAX + 1), ["bytes", "at most"]),
])
def test_bad_files_name_the_line_and_what_is_wrong(data, words):
    with pytest.raises(og.EdgeListError) as error:
        og.parse_edge_list(data)
    for word in words:
        assert word in str(error.value)


def test_the_node_limit_is_the_lessons():
    chain = "\n".join(f"{i} {i + 1}" for i in range(experiments.MAX_CIRCLES))
    with pytest.raises(og.EdgeListError, match=f"line {experiments.MAX_CIRCLES}.*at most 5,000"):
        og.parse_edge_list(chain)
    assert og.parse_edge_list("\n".join(f"{i} {i + 1}" for i in range(experiments.MAX_CIRCLES - 1))).n == 5_000


@pytest.mark.parametrize("family, n", [("tree", 40), ("grid", 300), ("random", 50), ("geometric", 80)])
def test_codes_round_trip(family, n):
    edges = gl.make_graph(family, n, 0)
    code = og.encode(n, edges)
    assert code.startswith("g") and og.check_code(code) == code
    back_n, back = og.decode(code)
    assert back_n == n and np.array_equal(back, edges)


def test_a_tree_of_forty_fits_a_link_and_a_big_grid_does_not():
    assert og.fits_link(og.encode(40, gl.make_graph("tree", 40, 0)))
    assert not og.fits_link(og.encode(2_000, gl.make_graph("grid", 2_000, 0)))


@pytest.mark.parametrize("code", ["", "x", "g", "g!!", "gAAA", "g_____", "g" + "A" * 50])
def test_damaged_codes_are_refused(code):
    if code == "":
        assert og.check_code(code) == ""
        return
    with pytest.raises(ValueError):
        og.decode(code)


def test_a_code_over_the_node_limit_is_refused():
    with pytest.raises(ValueError, match="5,000"):
        og.decode(og.encode(6_000, np.array([[0, 5_999]])))


def test_the_playground_lays_out_the_visitors_graph():
    code = og.encode(*og.parse_edge_list("a b\nb c\nc d\nd a\na c")[:2])
    values = {"mode": "single", "race": "sgd,adam", "optimizer": "adam", "lr": "", "beta": "", "beta2": "",
              "family": "tree", "n": 40, "seed": 0, "steps": 50, "init": "random", "graph": code}
    scene, _ = experiments.playground_scene(values)
    assert scene.n == 4 and scene.graph == code
    frames, metric_frames = experiments.scene_frames(scene)
    run = experiments.layout_run(scene.family, scene.n, scene.seed, "adam", (), "random", 50, frames,
                                 metric_frames, graph=code)
    assert run["edges"].tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [2, 3]]
    assert run["positions"].shape[1:] == (4, 2)
