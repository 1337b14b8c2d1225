"""The ``toxwatch`` command line. Heavy libraries are imported by the commands that use them,
so ``toxwatch --help`` stays fast.

Exit codes: 0 success; 1 unusable input, configuration or command line, or any other fault
(one line on stderr: file, field, problem, fix; ``--debug`` adds the traceback); 2 ran, but
validation errors were found and queried; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import NoReturn

from ctcae.home import data_path

EXIT_OK, EXIT_INPUT, EXIT_QUERIES = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
BUNDLED_TRIAL = data_path("trials", "npc-apatinib-pd1", "trial.toml")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


class CommandLineParser(argparse.ArgumentParser):
    """A usage error is an unusable input like any other: one line, exit 1 (argparse's 2 would
    read as "ran, and queried")."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("toxwatch").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_INPUT, f"toxwatch: error: {where}{message}. Fix: see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(
        prog="toxwatch",
        description="Safety desk of an oncology trial: validate AE data against CTCAE, build toxicity tables, watch stopping rules, render DSMB reports.",
    )
    parser.add_argument("--debug", action="store_true", help="on an error, print the Python traceback too (before the command: toxwatch --debug run ...)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the whole review on the bundled trial")
    demo.add_argument("--out", type=Path, default=Path("toxwatch-demo"), help="output root (default ./toxwatch-demo)")

    run = commands.add_parser("run", help="run the whole review as a Prefect flow")
    run.add_argument("config", type=Path)
    run.add_argument("--cut", type=_date, help="data cut date (default: latest date in the data)")
    run.add_argument("--out", type=Path, help="output root (default: the config's output_dir)")

    validate = commands.add_parser("validate", help="ingest and validate only; write queries")
    validate.add_argument("config", type=Path)
    validate.add_argument("--out", type=Path)
    validate.add_argument("--cut", type=_date)

    tables = commands.add_parser("tables", help="write all toxicity tables as CSV and Parquet")
    tables.add_argument("config", type=Path)
    tables.add_argument("--cut", type=_date)
    tables.add_argument("--out", type=Path, required=True)

    diff = commands.add_parser("diff", help="what changed between two data cuts in the store")
    diff.add_argument("config", type=Path)
    diff.add_argument("--from", dest="from_cut", metavar="CUT", help="cut date or cut id (default: the cut before --to)")
    diff.add_argument("--to", dest="to_cut", metavar="CUT", help="cut date or cut id (default: the latest cut)")
    diff.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="serve the trials' scheduled reports as Prefect deployments until stopped")
    serve.add_argument("configs", type=Path, nargs="+", metavar="CONFIG")

    deployments = commands.add_parser("deployments", help="the trial's scheduled reports, with their next run times")
    deployments.add_argument("config", type=Path)
    deployments.add_argument("--runs", type=int, default=3, help="how many next run times to list (default 3)")
    deployments.add_argument("--json", action="store_true")

    rules = commands.add_parser("rules", help="stopping boundaries and rule checks")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    boundary = rule_commands.add_parser("boundary", help="compute a stopping boundary and its operating characteristics")
    boundary.add_argument("--kind", choices=["toxbdry", "pocock", "bayes", "sprt"], required=True)
    boundary.add_argument("--looks", required=True, help='e.g. "20,40,60,75" or "1-40"')
    boundary.add_argument("--p0", type=float, help="acceptable rate (toxbdry pLo, pocock, sprt)")
    boundary.add_argument("--p1", type=float, help="unacceptable rate (toxbdry pHi, sprt)")
    boundary.add_argument("--cp0", type=float, default=0.1)
    boundary.add_argument("--cp1", type=float, default=0.9)
    boundary.add_argument("--delta", type=float, default=0.0)
    boundary.add_argument("--priority", choices=["null", "alt"], default="null")
    boundary.add_argument("--alpha", type=float, default=0.05)
    boundary.add_argument("--p-max", type=float, dest="p_max")
    boundary.add_argument("--threshold", type=float)
    boundary.add_argument("--prior", help='Beta prior "a,b" (bayes)')
    boundary.add_argument("--json", action="store_true")
    check = rule_commands.add_parser("check", help="evaluate the trial's rules on its latest data cut")
    check.add_argument("config", type=Path)
    check.add_argument("--json", action="store_true")

    ctcae = commands.add_parser("ctcae", help="CTCAE terms and grading")
    ctcae_commands = ctcae.add_subparsers(dest="ctcae_command", required=True, metavar="SUBCOMMAND")
    lookup = ctcae_commands.add_parser("lookup", help="look a term up: exact, synonym or fuzzy")
    lookup.add_argument("term")
    lookup.add_argument("--version", default="5.0")
    lookup.add_argument("--json", action="store_true")
    grade = ctcae_commands.add_parser("grade", help="grade a lab value or blood pressure")
    grade.add_argument("--test", required=True)
    grade.add_argument("--value", type=float, required=True)
    grade.add_argument("--uln", type=float)
    grade.add_argument("--lln", type=float)
    grade.add_argument("--baseline", type=float)
    grade.add_argument("--unit")
    grade.add_argument("--version", default="5.0")
    grade.add_argument("--json", action="store_true")
    mapper = ctcae_commands.add_parser("map", help="where a term of one CTCAE version goes in the other")
    mapper.add_argument("term")
    mapper.add_argument("--from", dest="from_version", default="5.0")
    mapper.add_argument("--to", dest="to_version", default="6.0")
    mapper.add_argument("--json", action="store_true")
    importer = ctcae_commands.add_parser("import", help="install the full dictionary from an NCI CTCAE workbook")
    importer.add_argument("path", type=Path)

    synth = commands.add_parser("synth", help="write a realistic synthetic trial folder with trial.toml")
    synth.add_argument("--subjects", type=int, required=True)
    synth.add_argument("--seed", type=int, default=20240115)
    synth.add_argument("--error-rate", type=float, default=0.0, dest="error_rate")
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument(
        "--sdtm", action="store_true", help="also write the trial as SDTM domains, with their own trial.toml, in OUT/sdtm/"
    )

    init = commands.add_parser("init", help="write a starter trial config from a folder of SDTM domains or ADaM datasets")
    standard = init.add_mutually_exclusive_group(required=True)
    standard.add_argument("--from-sdtm", type=Path, metavar="DIR", dest="from_sdtm", help="folder of SDTM domain files (dm, ae, ex ...)")
    standard.add_argument("--from-adam", type=Path, metavar="DIR", dest="from_adam", help="folder of ADaM dataset files (adsl, adae, adex ...)")
    init.add_argument("--out", type=Path, default=Path("trial.toml"), metavar="FILE", help="the config file to write (default ./trial.toml)")
    init.add_argument("--id", dest="trial_id", metavar="ID", help="trial id (default: STUDYID, lowercase)")
    init.add_argument("--force", action="store_true", help="overwrite --out when it exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from trial.errors import InputError

    _print_notes()
    try:
        return COMMANDS[args.command](args)
    except InputError as error:
        return _fail(error.message, debug=args.debug)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        problem = error.strerror or str(error)
        return _fail(f"{where}{problem}. Fix: check that the path exists and that toxwatch may read and write it", debug=args.debug)
    except KeyboardInterrupt:
        print("toxwatch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        return _fail(
            f"unexpected {type(error).__name__}: {error}. Fix: this is a fault in toxwatch; run again with --debug and report the traceback",
            debug=args.debug,
        )


def _fail(message: str, *, debug: bool) -> int:
    """One line on stderr per fault; the traceback only when asked for."""
    if debug:
        traceback.print_exc()
    print(f"toxwatch: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_INPUT


class _NoteLine(logging.Handler):
    """The stages' notes (e.g. an unfinished folder of a killed run cleared), one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"toxwatch: note: {record.getMessage()}", file=sys.stderr)


class _ProgressBar(logging.Handler):
    """A long load's progress ("toxwatch.progress" records with done/total), drawn on one
    terminal line once the load has run for a second and a half; nothing when stderr is not a
    terminal (logs, CI, pipes)."""

    DELAY_SECONDS = 1.5

    def __init__(self) -> None:
        super().__init__()
        self.started: float | None = None
        self.drawn = False

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        self.started = self.started if self.started is not None else now
        done, total = getattr(record, "done", 0), max(getattr(record, "total", 1), 1)
        if now - self.started < self.DELAY_SECONDS and not self.drawn:
            return
        filled = 30 * min(done, total) // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * done // total:3d}% {record.getMessage():<20}")
        self.drawn = True
        if done >= total:
            sys.stderr.write("\n")
            self.started, self.drawn = None, False
        sys.stderr.flush()


def _print_notes() -> None:
    notes = logging.getLogger("toxwatch")
    if not any(isinstance(handler, _NoteLine) for handler in notes.handlers):
        notes.addHandler(_NoteLine())
    notes.propagate = False
    progress = logging.getLogger("toxwatch.progress")
    progress.propagate = False
    progress.setLevel(logging.INFO)
    if sys.stderr.isatty() and not any(isinstance(handler, _ProgressBar) for handler in progress.handlers):
        progress.addHandler(_ProgressBar())


def _run_flow(config: Path, cut: date | None, out: Path | None, database: Path | None = None, *, debug: bool = False) -> dict:
    from flows.safety_review import safety_review

    if not debug:
        _quiet_prefect_run_failures()
    return safety_review(str(config), cut, str(out) if out else None, str(database) if database else None)


def _quiet_prefect_run_failures() -> None:
    """Prefect logs a failed task or flow run to the console with its traceback, twice; the CLI
    prints the failure itself as one line. Only the console copy is dropped: the Prefect API
    still records the run as failed, with its logs."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and _not_a_run_failure not in handler.filters:
            handler.addFilter(_not_a_run_failure)


def _not_a_run_failure(record: logging.LogRecord) -> bool:
    return not (record.levelno >= logging.ERROR and record.name.startswith(("prefect.flow_runs", "prefect.task_runs")))


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo keeps its store beside its outputs, away from the bundled trial's folder.
    result = _run_flow(BUNDLED_TRIAL, None, args.out, args.out / "toxwatch.duckdb", debug=args.debug)
    _print_review(result)
    return EXIT_OK  # the bundled trial carries deliberate data errors to show the query workflow


def cmd_run(args: argparse.Namespace) -> int:
    result = _run_flow(args.config, args.cut, args.out, debug=args.debug)
    _print_review(result)
    return EXIT_QUERIES if result["queries"] else EXIT_OK


def _print_review(result: dict) -> None:
    print(f"stopping rules: {result['stopping']}")
    print(f"expedited reporting: {result['reporting']}")
    print(f"queries: {result['queries']}")
    for report in result["reports"]:
        print(f"report: {report}")
    print(f"output: {result['out_dir']}")


def cmd_validate(args: argparse.Namespace) -> int:
    from flows.operations import validation_run

    result = validation_run(args.config, cut_date=args.cut, out_root=args.out)
    for source, counts in result["accounting"].items():
        print(
            f"{source}: {counts['rows_in']} rows in = {counts['clean']} clean + "
            f"{counts['counted_with_queries']} counted with queries + {counts['excluded']} excluded"
        )
    print(f"queries: {result['queries']} -> {Path(result['out_dir']) / 'queries.csv'}")
    print(f"query report: {result['query_report']}")
    return EXIT_QUERIES if result["queries"] else EXIT_OK


def cmd_tables(args: argparse.Namespace) -> int:
    from flows.stages import analyse, discard, ingest, publish, write_manifest

    loaded = ingest(args.config, cut_date=args.cut, out_root=args.out)
    try:
        analysis = analyse(loaded)
        write_manifest(loaded, timings=analysis["timings"], reconciliation_queries=analysis["reconciliation_queries"])
        out_dir = publish(loaded)
    except BaseException:
        discard(loaded)
        raise
    print(f"tables: {', '.join(analysis['tables'])} -> {out_dir / 'tables'}")
    return EXIT_QUERIES if loaded.queries else EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    if args.rules_command == "boundary":
        return _rules_boundary(args)
    return _rules_check(args)


def _rules_boundary(args: argparse.Namespace) -> int:
    from signals import boundaries

    def need(name: str, value: object) -> object:
        if value is None:
            option = f"--{name.replace('_', '-')}"
            print(f"toxwatch: error: {option}: --kind {args.kind} needs it. Fix: add {option} (see `toxwatch rules boundary --help`)", file=sys.stderr)
            raise SystemExit(EXIT_INPUT)
        return value

    try:
        looks = boundaries.parse_looks(args.looks)
        if args.kind == "toxbdry":
            result = boundaries.toxbdry(need("p0", args.p0), need("p1", args.p1), looks, cp0=args.cp0, cp1=args.cp1, delta=args.delta, priority=args.priority)
        elif args.kind == "pocock":
            result = boundaries.pocock(need("p0", args.p0), looks, alpha=args.alpha, p1=args.p1)
        elif args.kind == "sprt":
            result = boundaries.sprt(need("p0", args.p0), need("p1", args.p1), looks, alpha=args.alpha)
        else:
            prior = tuple(float(v) for v in need("prior", args.prior).split(","))
            result = boundaries.bayes(need("p_max", args.p_max), looks, prior=prior, threshold=args.threshold, alpha=args.alpha if args.threshold is None else None, p0=args.p0)
    except ValueError as error:
        print(f"toxwatch: error: {error}. Fix: correct the option (see `toxwatch rules boundary --help`)", file=sys.stderr)
        return EXIT_INPUT
    payload = result.to_dict()
    if args.json:
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    print(f"{result.kind} boundary: stop when the count of events exceeds r at n")
    print("n:  " + " ".join(f"{n:>3}" for n in result.looks))
    if result.lo is not None:
        print("lo: " + " ".join(f"{r:>3}" for r in result.lo))
    print(("hi: " if result.lo is not None else "r:  ") + " ".join(f"{r:>3}" for r in result.stop_above))
    print("p      P(cross)  P(stop early)  E[n]")
    for row in result.oc:
        print(f"{row.p:<6.3f} {row.p_cross:>8.3f}  {row.p_early_stop:>13.3f}  {row.expected_n:>5.1f}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return EXIT_OK


def _rules_check(args: argparse.Namespace) -> int:
    from safetydb.models import build_cut_models
    from safetydb.store import SafetyStore
    from signals.rules import evaluate_rules
    from trial.errors import InputError
    from trial.config import load_trial_config

    config = load_trial_config(args.config)
    with SafetyStore(config.database_path) as store:
        cut = store.latest_cut(config.id)
        if cut is None:
            raise InputError(config.database_path, None, f"no data cut of trial {config.id!r} in the store", f"run `toxwatch run {args.config}` first")
        build_cut_models(store, config, cut.cut_id, cut.cut_date)
        results = evaluate_rules(store, config)
    if args.json:
        print(json.dumps({"cut_date": cut.cut_date.isoformat(), "rules": [r.to_dict() for r in results]}, indent=2, default=str))
    else:
        print(f"data cut {cut.cut_date}")
        for result in results:
            print(f"{result.status:<5} {result.rule_id}: {result.statement}")
    return EXIT_OK


def cmd_ctcae(args: argparse.Namespace) -> int:
    if args.ctcae_command == "lookup":
        from ctcae.matching import lookup_json

        payload = lookup_json(args.term, args.version)
        if args.json:
            print(json.dumps(payload, indent=2))
        elif payload["term"] is None:
            print(f"no {payload['version']} term matches {args.term!r}")
            for suggestion in payload["suggestions"]:
                print(f"  did you mean: {suggestion['term']} (score {suggestion['score']:.0f})")
        else:
            grades = ", ".join(str(g) for g in payload["allowed_grades"])
            print(f"{payload['term']} ({payload['soc']}; MedDRA {payload['meddra_code']}) — grades {grades} — {payload['match']} match")
        return EXIT_OK if payload["term"] is not None else EXIT_INPUT
    if args.ctcae_command == "grade":
        from ctcae.grade_value import grade

        try:
            result = grade(args.test, args.value, uln=args.uln, lln=args.lln, baseline=args.baseline, unit=args.unit, version=args.version)
        except ValueError as error:
            print(f"toxwatch: error: {error}. Fix: correct the option (see `toxwatch ctcae grade --help`)", file=sys.stderr)
            return EXIT_INPUT
        if args.json:
            print(json.dumps(result.to_dict(), indent=2))
        elif result.gradable:
            print(f"grade {result.grade} ({result.ctcae_term}): {result.criterion}")
        else:
            print(f"not gradable: {result.reason}")
        return EXIT_OK
    if args.ctcae_command == "map":
        return _ctcae_map(args)
    from ctcae.workbook import import_workbook

    try:
        imported = import_workbook(args.path)
    except ValueError as error:
        print(f"toxwatch: error: {error}", file=sys.stderr)  # names the file and the fix
        return EXIT_INPUT
    print(f"imported CTCAE v{imported.version}: {imported.term_count} terms from {imported.source_file} (sha256 {imported.source_sha256[:12]}…)")
    print(f"dictionary: {imported.terms_path}")
    if imported.mapping_path is not None:
        print(f"v5.0 -> v6.0 mapping: {imported.mapping_rows} rows in {imported.mapping_path}")
    return EXIT_OK


def _ctcae_map(args: argparse.Namespace) -> int:
    from ctcae.mapping import map_term

    try:
        mapped = map_term(args.term, args.from_version, args.to_version)
    except ValueError as error:
        print(f"toxwatch: error: {error}. Fix: correct the option (see `toxwatch ctcae map --help`)", file=sys.stderr)
        return EXIT_INPUT
    rows = [
        {
            "from_version": m.from_version, "from_term": m.from_term, "to_version": m.to_version,
            "to_term": m.to_term, "change_type": m.change_type, "other_specify": m.other_specify,
            "grade_map": [list(pair) for pair in m.grade_map],
        }
        for m in mapped
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print(f"no CTCAE v{args.from_version} term {args.term!r} in the mapping (try `toxwatch ctcae lookup`)")
    for row in [] if args.json else rows:
        grades = ", ".join(f"{a}->{b}" for a, b in row["grade_map"])
        specify = f" (specify: {row['other_specify']})" if row["other_specify"] else ""
        print(f"{row['from_term']} (v{row['from_version']}) -> {row['to_term']}{specify} (v{row['to_version']}): {row['change_type']}; grades {grades}")
    return EXIT_OK if rows else EXIT_INPUT


def cmd_diff(args: argparse.Namespace) -> int:
    from safetydb.diff import diff_cuts, find_cut
    from safetydb.store import SafetyStore
    from trial.config import load_trial_config
    from trial.errors import InputError

    config = load_trial_config(args.config)
    with SafetyStore(config.database_path) as store:
        cuts = store.cuts(config.id)
        if len(cuts) < 2 and not (args.from_cut and args.to_cut):
            raise InputError(
                config.database_path, None, f"the store holds {len(cuts)} data cut(s) of trial {config.id!r}; a diff needs two",
                f"run `toxwatch run {args.config}` on a later data delivery (or with another --cut), then diff",
            )
        try:
            to_cut = find_cut(store, config.id, args.to_cut) if args.to_cut else cuts[-1]
            from_cut = find_cut(store, config.id, args.from_cut) if args.from_cut else store.previous_cut(to_cut)
        except LookupError as error:
            raise InputError(config.database_path, "--from/--to", str(error), "name a cut date or cut id the store holds") from None
        if from_cut is None:
            raise InputError(config.database_path, "--to", f"the cut {to_cut.cut_date} is the trial's first", "give --from")
        changes = diff_cuts(store, from_cut, to_cut)
    if args.json:
        print(json.dumps(changes.to_dict(), indent=2, default=str))
        return EXIT_OK
    print(format_diff(changes))
    return EXIT_OK


def format_diff(changes) -> str:
    """The diff as text: a summary line per kind, then the rows."""
    lines = [
        f"changes from cut {changes.from_cut.cut_date} ({changes.from_cut.cut_id}) to cut {changes.to_cut.cut_date} ({changes.to_cut.cut_id})",
    ]
    lines += [f"  {name.replace('_', ' ')}: {count}" for name, count in changes.summary().items()]
    for row in changes.rule_changes.iter_rows(named=True):
        lines.append(
            f"rule {row['rule_id']}: {row['before'] or '(new)'} -> {row['after'] or '(gone)'}"
            f" (events {row['events_before']}/{row['evaluable_before']} -> {row['events_after']}/{row['evaluable_after']})"
        )
    for row in changes.new_deaths.iter_rows(named=True):
        lines.append(f"new death: {row['subject_id']} {row['death_date'] or 'date unknown'} ({row['evidence']}{'; ' + row['fatal_events'] if row['fatal_events'] else ''})")
    for row in changes.ae_changes.iter_rows(named=True):
        what = f"{row['ae_id']} {row['subject_id']} {row['ctcae_term']} grade {row['grade']}"
        if row["field"] is None:
            lines.append(f"{row['change']}: {what}, onset {row['onset_date']}{', serious' if row['serious'] == 'Y' else ''}")
        else:
            lines.append(f"{row['change']}: {what}: {row['field']} {row['before'] or '(none)'} -> {row['after'] or '(none)'}")
    for row in changes.sources.iter_rows(named=True):
        if row["rows_before"] != row["rows_after"]:
            lines.append(f"source {row['source']}: {row['rows_before']} -> {row['rows_after']} rows")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve every `[[schedules]]` entry of the trials from this process (Prefect's ``serve``):
    each runs on its cron in its time zone, and can be triggered from the Prefect UI or API.
    With PREFECT_API_URL set the deployments go to that server; else to the embedded one."""
    from flows.deployments import runner_deployments
    from trial.config import load_trial_config
    from trial.errors import InputError

    configs = [load_trial_config(path) for path in args.configs]
    deployments = runner_deployments(configs)
    if not deployments:
        raise InputError(args.configs[0], "schedules", "no [[schedules]] entry to serve", "add a [[schedules]] entry (docs/trial-config.md)")
    from prefect import serve

    serve(*deployments, print_starting_message=True)
    return EXIT_OK


def cmd_deployments(args: argparse.Namespace) -> int:
    from flows.deployments import deployment_plan
    from trial.config import load_trial_config

    plan = deployment_plan(load_trial_config(args.config), runs=max(args.runs, 1))
    if args.json:
        print(json.dumps(plan, indent=2))
        return EXIT_OK
    if not plan:
        print("no [[schedules]] in the trial config")
    for entry in plan:
        print(f"{entry['deployment']}: {entry['report']} report, cron {entry['cron']} {entry['timezone']}")
        for local, utc in zip(entry["next_runs"], entry["next_runs_utc"]):
            print(f"  next: {local}  ({utc} UTC)")
    return EXIT_OK


def cmd_synth(args: argparse.Namespace) -> int:
    from synth import generate_trial

    counts = generate_trial(args.subjects, args.seed, args.out, error_rate=args.error_rate)
    for source, rows in counts.items():
        print(f"{source}: {rows} rows")
    print(f"trial folder: {args.out} (config: {args.out / 'trial.toml'})")
    if args.sdtm:
        from synth.sdtm import SDTM_FOLDER, write_sdtm

        config = write_sdtm(args.out, args.out / SDTM_FOLDER)
        print(f"SDTM folder: {config.parent} (config: {config})")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from readers.init_config import config_from_cdisc
    from trial.config import load_trial_config
    from trial.errors import InputError

    standard, folder = ("sdtm", args.from_sdtm) if args.from_sdtm is not None else ("adam", args.from_adam)
    out: Path = args.out
    if out.is_dir():
        raise InputError(out, "--out", "is a folder", "name the config file to write, e.g. --out trial.toml")
    if out.exists() and not args.force:
        raise InputError(out, "--out", "the file exists and is left as it is", "give --force to overwrite it, or another --out")
    text = config_from_cdisc(folder, standard=standard, out=out, trial_id=args.trial_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    config = load_trial_config(out)
    arms = ", ".join(arm.shown for arm in config.arms) or "none"
    agents = ", ".join(f"{agent.id} {agent.dose_mg:g} mg" for agent in config.model.agents)
    print(f"trial config: {out} (trial {config.id}, grading {config.model.trial.grading})")
    print(f"arms: {arms}")
    print(f"agents: {agents}")
    print(f"each choice is a commented key; check them, then: toxwatch run {out}")
    return EXIT_OK


COMMANDS = {
    "demo": cmd_demo,
    "run": cmd_run,
    "validate": cmd_validate,
    "tables": cmd_tables,
    "diff": cmd_diff,
    "rules": cmd_rules,
    "deployments": cmd_deployments,
    "serve": cmd_serve,
    "ctcae": cmd_ctcae,
    "synth": cmd_synth,
    "init": cmd_init,
}


if __name__ == "__main__":
    sys.exit(main())
