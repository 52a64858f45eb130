"""Per-line figures over the transition: are people still dialing the old numbers?

For each number dialed (HOTLINE_DIALED) and each local day: calls, answered
by an agent, abandoned in the queue, forwarded, and the average and median
time from the start of the call to the answer. The chart draws calls per old
number per day; a number whose line has gone flat can be retired (取消号码).
Days are the hotline's local days (`calls.day`), so both backends agree.
The counting is the one call-figures model (ivr/figures.py, shared with the
KPI report): this report is its grouping by dialed number x day, folded from
counts the database groups, and the public form below.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.figures import DISPOSITIONS, Figures, mean, median
from ivr.storage.models import Call

MAX_DAYS = 800          # a transition is months, not years: bounds the work per request


class ReportError(ValueError):
    """A report request that cannot be served (bad dates, too long a range)."""


@dataclass
class Summary:
    """The public form of one group's `Figures` (JSON, table, chart): counts per disposition, answer times."""

    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    forwarded: int = 0
    announced: int = 0
    unanswered: int = 0
    avg_answer_s: float | None = None
    median_answer_s: float | None = None

    @classmethod
    def of(cls, fig: Figures, **extra) -> Summary:
        return cls(calls=fig.calls, **{d: fig.of(d) for d in DISPOSITIONS}, avg_answer_s=mean(fig.answer_times),
                   median_answer_s=median(fig.answer_times), **extra)


@dataclass
class DaySummary(Summary):
    day: str = ""


@dataclass
class LineFigures:
    dialed: str
    line: str | None
    department: str | None
    mode: str | None
    total: Summary
    days: list[DaySummary] = field(default_factory=list)   # every day of the range, zeros included
    last_call_day: str | None = None
    calls_last_7_days: int = 0


@dataclass
class LineReport:
    start: str
    end: str
    lines: list[LineFigures]

    def to_dict(self) -> dict:
        return asdict(self)


def parse_range(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """`YYYY-MM-DD` bounds (inclusive); default: the 30 days up to today."""
    try:
        end_d = dt.date.fromisoformat(end) if end else today
        start_d = dt.date.fromisoformat(start) if start else end_d - dt.timedelta(days=29)
    except ValueError as exc:
        raise ReportError(f"bad date: {exc} (expected YYYY-MM-DD)") from None
    if start_d > end_d:
        raise ReportError(f"from {start_d} is after to {end_d}")
    if (end_d - start_d).days + 1 > MAX_DAYS:
        raise ReportError(f"range of {(end_d - start_d).days + 1} days is longer than {MAX_DAYS}")
    return start_d, end_d


def line_report(session: Session, start: dt.date, end: dt.date) -> LineReport:
    """Figures for every number dialed between `start` and `end` (local days, inclusive)."""
    in_range = (Call.day >= start, Call.day <= end, Call.dialed.is_not(None))
    # The grouping by dialed number x day, folded from the counts the database groups.
    groups: dict[tuple[str, dt.date], Figures] = {}
    for dialed, day, disposition, n in session.execute(
        select(Call.dialed, Call.day, Call.disposition, func.count()).where(*in_range)
        .group_by(Call.dialed, Call.day, Call.disposition)
    ):
        groups.setdefault((dialed, day), Figures()).count(disposition, n)
    for dialed, day, answer_s in session.execute(
        select(Call.dialed, Call.day, Call.answer_s)
        .where(*in_range, Call.disposition == "answered", Call.answer_s.is_not(None))
    ):
        groups.setdefault((dialed, day), Figures()).answered_after(answer_s)  # a call may end between the reads
    # The line a number belongs to: as recorded on its latest call in the range.
    info: dict[str, tuple] = {}
    for dialed, line, department, mode, _ in session.execute(
        select(Call.dialed, Call.line, Call.department, Call.mode, func.max(Call.started_at)).where(*in_range)
        .group_by(Call.dialed, Call.line, Call.department, Call.mode).order_by(func.max(Call.started_at))
    ):
        info[dialed] = (line, department, mode)

    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    recent = set(days[-7:])
    lines = []
    for dialed in sorted(info, key=lambda d: (len(d), d)):
        line, department, mode = info[dialed]
        fig = LineFigures(dialed, line, department, mode, Summary())
        total = Figures()
        for day in days:
            figures = groups.get((dialed, day), Figures())
            total.merge(figures)
            d = DaySummary.of(figures, day=day.isoformat())
            fig.days.append(d)
            if d.calls:
                fig.last_call_day = d.day
                if day in recent:
                    fig.calls_last_7_days += d.calls
        fig.total = Summary.of(total)
        lines.append(fig)
    return LineReport(start.isoformat(), end.isoformat(), lines)


def render_chart(report: LineReport) -> bytes:
    """PNG: calls per old number per day over the range, one line per number."""
    # The object API (no pyplot): safe in a worker thread, no global figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    days = [dt.date.fromisoformat(d) for d in _range_days(report)]
    # Old numbers only: 12345 itself (no line) would dwarf them; it stays in the figures.
    drawn = [ln for ln in report.lines if ln.line] or report.lines
    for line in drawn:
        label = line.dialed + (f" ({line.line})" if line.line else "")  # ASCII: no CJK font needed
        ax.plot(days, [d.calls for d in line.days], marker="o" if len(days) <= 45 else None,
                markersize=3, linewidth=1.5, label=label)
    ax.set_title(f"Calls per old number per day, {report.start} to {report.end}")
    ax.set_ylabel("calls")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if report.lines:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no calls in this range", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _range_days(report: LineReport) -> list[str]:
    start, end = dt.date.fromisoformat(report.start), dt.date.fromisoformat(report.end)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def format_table(report: LineReport) -> str:
    """Plain-text summary, one row per number, then calls per day."""
    head = f"{'number':<12}{'line':<20}{'calls':>7}{'answered':>10}{'abandoned':>10}{'forwarded':>10}" \
           f"{'avg s':>8}{'median s':>9}{'last 7d':>8}  last call"
    rows = [f"Calls per number, {report.start} to {report.end}", head]
    for ln in report.lines:
        t = ln.total
        rows.append(f"{ln.dialed:<12}{(ln.line or '-'):<20}{t.calls:>7}{t.answered:>10}{t.abandoned:>10}"
                    f"{t.forwarded:>10}{_s(t.avg_answer_s):>8}{_s(t.median_answer_s):>9}"
                    f"{ln.calls_last_7_days:>8}  {ln.last_call_day or '-'}")
    if not report.lines:
        rows.append("(no calls)")
        return "\n".join(rows)
    rows += ["", "Calls per day", f"{'day':<12}" + "".join(f"{ln.dialed:>10}" for ln in report.lines)]
    for i, day in enumerate(_range_days(report)):
        rows.append(f"{day:<12}" + "".join(f"{ln.days[i].calls:>10}" for ln in report.lines))
    return "\n".join(rows)


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"
