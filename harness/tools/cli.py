"""torch-shap-matrix: the published table where the user already is, no clone needed.

    torch-shap-matrix lookup "RuntimeError: ..."      which recorded problem a pasted error is (or paste on stdin)
    torch-shap-matrix table --torch 1.13.0 --shap 0.44.1   what the table says for those versions
    torch-shap-matrix doctor my_model.py               run both explainers on your model, in this interpreter

Every answer comes from the table bundled with the package (offline; its date is shown), or from a newer
results folder given with --results.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import HarnessError, OptionParser, command
from ..publish import bundled, cell_answer
from ..publish import lookup as lookup_module
from ..publish.matrix_file import read_matrix

PROG = "torch-shap-matrix"


def _source_line(results: Path | None) -> str:
    about = bundled.about(results)
    return f"(table: {about['source']}, runs up to {about['date']})"


def _lookup(args) -> int:
    """The lookup's own command line (argument or standard input), on the bundled table."""
    code = lookup_module.main(["--results", str(bundled.results_folder(args.results)), "--", *args.text])
    if code == 0:
        print(_source_line(args.results))
    return code


def _table(args) -> int:
    document = read_matrix(bundled.results_folder(args.results))
    answer = cell_answer.summary(document, args.torch, args.shap, args.device)
    print("\n".join(cell_answer.describe(answer)))
    print(_source_line(args.results))
    return 0


def _doctor(args) -> int:
    from . import doctor  # torch and shap are needed only here
    return doctor.main_for(args)


def parsers() -> tuple[OptionParser, dict]:
    """The top parser (for --help) and one parser per command."""
    top = OptionParser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", metavar="{lookup,table,doctor}", parser_class=OptionParser)
    found = commands.add_parser("lookup", help="which recorded problem a pasted error is, and what works instead")
    found.add_argument("text", nargs="*", help="the pasted error (quote it; '-' or nothing reads standard input)")
    found.set_defaults(run=_lookup)
    table = commands.add_parser("table", help="what the table says for a torch and a shap release")
    table.add_argument("--torch", required=True, help="torch release, e.g. 1.13.0")
    table.add_argument("--shap", required=True, help="shap release, e.g. 0.44.1")
    table.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    table.set_defaults(run=_table)
    check = commands.add_parser("doctor", help="DeepExplainer and GradientExplainer on your model, here")
    check.add_argument("model", type=Path, help="a module with INPUT_SHAPES and build() (docs/models.md)")
    check.add_argument("--timeout", type=float, default=300.0, help="seconds one explainer may take (default 300)")
    check.set_defaults(run=_doctor)
    for sub in (found, table, check):
        sub.add_argument("--results", type=Path, help="a newer results folder (matrix.json or raw/) to answer from")
    return top, {"lookup": found, "table": table, "doctor": check}


@command
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    top, subs = parsers()
    if not argv or argv[0] in ("-h", "--help"):
        top.print_help()
        return 0
    if argv[0] not in subs:
        raise HarnessError(f"unknown command {argv[0]!r}: use lookup, table or doctor (see {PROG} --help)")
    args = subs[argv[0]].parse_or_help(argv[1:])
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
