"""How numbers are shown to people, shared by the HTML report and the terminal view.

One set of rules, so that a score reads the same in `gome show` and in report.html (and the
structure tests can compare a page's text with the journal's numbers through them).
"""

from __future__ import annotations


def score(value: float | None) -> str:
    """A validation score with 6 significant digits ('—' when there is none)."""
    if value is None:
        return "—"
    return f"{value:.6g}"


def gain(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:+.4g}"


def duration(seconds: float | None, hours: bool = False) -> str:
    """Run-clock time as h:mm:ss (or m:ss under an hour).

    ``hours=True`` keeps the hours for every time of a run that lasts an hour or more, so that
    "16:46" (m:ss) never sits beside "1:30:00" (h:mm:ss) on one page.
    """
    if seconds is None:
        return "—"
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h or hours else f"{m}:{sec:02d}"


def money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:.4f}"


def tokens(value: int | float | None) -> str:
    """Token counts: 1234 -> 1.2k, 3_400_000 -> 3.4M."""
    if value is None:
        return "—"
    v = float(value)
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{int(v)}"
