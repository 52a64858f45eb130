"""`hotline plan enterprises import FILE [-o enterprises.yaml]`: the 一企来 register into the plan.

A command of its own (registered under `hotline plan`) so the plan command
module stays about routing; the table's meaning is `ivr.plan.enterprises`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivr.config.enterprise_file import read_numbers
from ivr.plan.enterprises import read_register, render_register
from ivr.plan.merge_list import MergeListError
from ivr.plan.tables import read_grids


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("enterprises", help="一企来: the registered enterprises' numbers (enterprise.numbers_file)")
    what = parser.add_subparsers(dest="enterprises_command", metavar="SUBCOMMAND", required=True)
    imp = what.add_parser("import", help="read the register (CSV/TSV/XLSX: 企业名称, 联系电话) into a numbers file")
    imp.add_argument("table", metavar="FILE", help=".csv/.tsv (UTF-8 or GB18030) or .xlsx")
    imp.add_argument("-o", "--output", metavar="FILE.yaml", help="write the numbers file here (default: stdout)")
    imp.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    source = Path(args.table)
    try:
        result = read_register(read_grids(source))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{source}: 无法读取 (cannot read): {exc}", file=sys.stderr)
        return 2
    except MergeListError as exc:   # TableError: names file, sheet and row
        print(str(exc), file=sys.stderr)
        return 2
    for item in result.reported:
        print(item, file=sys.stderr)
    if result.errors:
        print("\n".join(result.errors), file=sys.stderr)
        print(f"{source}: {len(result.errors)} 个号码有误，未写出 (nothing written)", file=sys.stderr)
        return 2
    text = render_register(result, source.name)
    numbers, problems = read_numbers(text, "output")
    if problems or len(numbers) != len(result.numbers):  # what the loader will read back
        print(f"the numbers file does not read back (an importer bug, please report): {problems}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print(f"{len(numbers)} enterprise numbers; set enterprise.numbers_file in config.yaml, then "
          f"`hotline config check`", file=sys.stderr)
    return 0
