"""The cell protocol (harness/cell/protocol.py): the one module the supervisor and the worker both speak."""
import pytest

from harness.cell import protocol


def test_a_case_message_round_trips_as_one_line():
    case = {"model": "mlp", "path": "/m/mlp.py", "explainer": "deep", "device": "cpu"}
    message = protocol.case_message(case, repeats=3, keep_attributions=False, remedy="out_of_place")
    line = protocol.encode(message)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert protocol.decode(line) == message == dict(case, repeats=3, keep_attributions=False, remedy="out_of_place")
    assert protocol.decode(line.encode()) == message  # the supervisor reads bytes


def test_a_field_outside_the_protocol_is_refused():
    with pytest.raises(ValueError, match="reference"):
        protocol.case_message({"model": "mlp", "reference": True})


@pytest.mark.parametrize("line", ["", "not json\n", "[1, 2]\n", '"text"\n', b"\xff\xfe\n"])
def test_anything_but_a_json_object_is_dropped(line):
    assert protocol.decode(line) is None


def test_hello_is_marked():
    assert protocol.decode(protocol.encode(protocol.hello({"import_seconds": 1.5}))) == {
        "import_seconds": 1.5, "type": protocol.HELLO}
