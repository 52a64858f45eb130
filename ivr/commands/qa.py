"""`hotline qa run|rerun|show`: quality inspection (质检) of recorded calls from the command line.

`run` transcribes and scores every recording not yet scored (what the server's
background worker also does), with a progress bar in seconds of audio;
`rerun` forgets automatic scores (of the given ids, or `--all`; a human
grader's override stays) and scores again, e.g. after the rules changed;
`show ID` prints one call's score with each rule's evidence (time offsets
into the recording), an audited read.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys

from ivr.commands.db import add_db_args
from ivr.commands.recordings import open_recordings as open_store
from ivr.storage import repo as core


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("qa", help="quality inspection of recorded calls (质检): run, rerun, show")
    actions = parser.add_subparsers(dest="qa_action", metavar="ACTION")
    run = actions.add_parser("run", help="score every recording not yet scored")
    run.add_argument("--limit", type=int, default=1000)
    rerun = actions.add_parser("rerun", help="score again (overrides by a grader stay)")
    rerun.add_argument("ids", nargs="*", type=int, metavar="ID", help="recording ids (see hotline recordings list)")
    rerun.add_argument("--all", action="store_true", help="every scored recording")
    show = actions.add_parser("show", help="one recording's score and evidence (an audited read)")
    show.add_argument("id", type=int)
    for sub, func in ((run, run_run), (rerun, run_rerun), (show, run_show)):
        add_db_args(sub)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=func)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _score_all(config, store, limit: int, as_json: bool) -> int:
    from ivr.speech.engine import SpeechEngine
    from ivr.speech.progress import Progress
    from recordings import repo
    from recordings.qa_worker import model_path, transcribe_and_score
    from recordings.service import local_folder

    rows = store.run_sync(repo.unscored, limit)
    if not rows:
        print("nothing to score", file=sys.stderr)
        return 0
    path = model_path(config)
    if path is None:
        print("hotline qa: no speech model (set speech.model)", file=sys.stderr)
        return 1
    engine = SpeechEngine(path, workers=config.recordings.qa.workers).start()
    progress = Progress({r["id"]: max(r["duration"], 0.1) for r in rows})
    folder, results = local_folder(config), []
    try:
        for r in rows:
            try:
                result, transcript, model = transcribe_and_score(engine, folder, r, config.recordings.qa)
            except (OSError, ValueError) as exc:
                progress.message(f"{r['id']}: {exc}")
                result, transcript, model = {"score": 0, "rules": [], "error": str(exc)[:200]}, {}, ""
            saved = store.run_sync(repo.save_qa, r["id"], result, transcript, model, _now())
            results.append({"id": r["id"], "call_id": r["call_id"], "score": saved["score"]})
            progress.update(r["id"], 1.0)
    finally:
        progress.close()
        engine.shutdown()
    if as_json:
        print(json.dumps(results))
    else:
        for x in results:
            print(f"{x['id']:>6}  {x['score']:>3}  {x['call_id']}")
    return 0


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def run_run(args: argparse.Namespace) -> int:
    config, store = open_store(args, "qa run")
    try:
        return _score_all(config, store, args.limit, args.json)
    finally:
        store.close()


def run_rerun(args: argparse.Namespace) -> int:
    from recordings import repo

    if not args.ids and not args.all:
        print("hotline qa rerun: give recording ids or --all", file=sys.stderr)
        return 2
    config, store = open_store(args, "qa rerun")
    try:
        cleared = store.run_sync(repo.clear_qa, None if args.all else args.ids)
        print(f"{cleared} automatic score(s) cleared", file=sys.stderr)
        return _score_all(config, store, 100000, args.json)
    finally:
        store.close()


def run_show(args: argparse.Namespace) -> int:
    from recordings import repo

    _config, store = open_store(args, "qa show")
    try:
        rec = store.run_sync(repo.get, args.id)
        qa = store.run_sync(repo.get_qa, args.id) if rec else None
        if rec:
            store.run_sync(core.log_recording_read, getpass.getuser(), rec["rec_id"], "hotline qa", "qa_show")
    finally:
        store.close()
    if qa is None:
        print(f"hotline qa show: recording {args.id} {'has no score yet' if rec else 'does not exist'}",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"recording": rec, "qa": qa}, ensure_ascii=False, indent=1))
        return 0
    print(f"recording {rec['id']}  call {rec['call_id']}  agents {','.join(rec['agents']) or '-'}  "
          f"score {qa['final_score']}" + (f" (auto {qa['score']}, by {qa['override']['by']})" if qa["override"] else ""))
    for r in qa["rules"]:
        mark = "✓" if r["passed"] else "✗"
        at = ", ".join(f"{e['at']:.1f}s" for e in r["evidence"][:5])
        print(f"  {mark} {r['rule']:<12} {r['weight']:>3}  {r['detail']}" + (f"  @ {at}" if at else ""))
    return 0
