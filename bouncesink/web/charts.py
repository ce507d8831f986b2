"""Charts as data for SVG templates, drawn on the server: no JavaScript, no CDN.

Each function takes plain values and returns the shapes to draw (rectangles, circles, axis
labels) as dicts; the template writes them as SVG elements, so every text in a chart passes
through the template engine's escaping like the rest of the page. Every data point carries
`data-*` attributes and a <title> (the tooltip), which is also what the browser tests read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Result types in the order they stack, with their colours (hard at the bottom: it matters most).
TYPES = ("hard", "soft", "blocked", "complaint", "autoreply", "delay", "delivered")
COLOURS = {"hard": "#c0392b", "soft": "#e67e22", "blocked": "#8e44ad", "complaint": "#2c3e50",
           "autoreply": "#16a085", "delay": "#7f8c8d", "delivered": "#27ae60", "": "#bdc3c7"}


def colour(type_: str) -> str:
    return COLOURS.get(type_, COLOURS[""])


def ordered_types(types) -> list[str]:
    return sorted(set(types), key=lambda t: (TYPES.index(t) if t in TYPES else len(TYPES), t))


def nice_max(n: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least n."""
    top = 1
    while True:
        for m in (1, 2, 5):
            if top * m >= n:
                return top * m
        top *= 10


def per_day_bars(rows, since: date, until: date, width: int = 760, height: int = 220) -> dict:
    """Stacked bars, one per day from `since` to `until`, one segment per type.

    rows: (day 'YYYY-MM-DD', type, count)."""
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    counts: dict[tuple[str, str], int] = {}
    for day, type_, n in rows:
        counts[(day, type_ or "")] = counts.get((day, type_ or ""), 0) + n
    types = ordered_types(t for _, t in counts)
    totals = {d.isoformat(): sum(n for (day, _), n in counts.items() if day == d.isoformat())
              for d in days}
    top = nice_max(max(totals.values(), default=0) or 1)
    left, bottom, plot_h = 44, 24, height - 34
    step = (width - left - 6) / max(len(days), 1)
    bar_w = max(step * 0.8, 1)
    bars = []
    for i, d in enumerate(days):
        y = plot_h + 6
        for t in types:
            n = counts.get((d.isoformat(), t), 0)
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            bars.append({"x": round(left + i * step, 1), "y": round(y, 1), "w": round(bar_w, 1),
                         "h": round(max(h, 0.5), 1), "fill": colour(t), "day": d.isoformat(),
                         "type": t or "-", "count": n})
    ticks = [{"y": round(plot_h + 6 - v / top * plot_h, 1), "label": f"{v:,}"}
             for v in (0, top // 2, top)]
    labels = [{"x": round(left + i * step + bar_w / 2, 1), "label": d.strftime("%m-%d")}
              for i, d in enumerate(days) if i % max(len(days) // 8, 1) == 0]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "labels": labels,
            "left": left, "base": plot_h + 6, "legend": [{"type": t, "fill": colour(t)}
                                                         for t in types],
            "total": sum(totals.values()), "bottom": bottom}


def mix_bars(domains, width: int = 360) -> list[dict]:
    """Per domain, a horizontal bar split by type, as percentages of its results.

    domains: [(domain, {type: count})], biggest first."""
    out = []
    for name, types in domains:
        total = sum(types.values())
        x = 0.0
        parts = []
        for t in ordered_types(types):
            share = types[t] / total if total else 0
            parts.append({"x": round(x * width, 1), "w": round(max(share * width, 0.5), 1),
                          "fill": colour(t), "type": t or "-", "count": types[t],
                          "share": f"{share:.0%}"})
            x += share
        out.append({"domain": name, "total": total, "parts": parts, "types": types})
    return out


def timeline(alerts, since: datetime, until: datetime, width: int = 760,
             height: int = 70) -> dict:
    """sender_blocked alerts as points on a time axis. alerts: dicts with `at` (datetime),
    `domain`, `count`."""
    span = (until - since).total_seconds() or 1
    left, right = 30, width - 30   # room for the first and last date labels
    points = []
    for a in alerts:
        x = left + (a["at"] - since).total_seconds() / span * (right - left)
        points.append({"x": round(min(max(x, left), right), 1), "y": height / 2,
                       "r": min(4 + a["count"] ** 0.5, 12), "domain": a["domain"],
                       "count": a["count"], "at": a["at"].strftime("%Y-%m-%d %H:%M")})
    labels = []
    days = (until - since).days or 1
    for i in range(0, days + 1, max(days // 6, 1)):
        t = since + timedelta(days=i)
        labels.append({"x": round(left + i * 86400 / span * (right - left), 1),
                       "label": t.strftime("%m-%d")})
    return {"width": width, "height": height, "points": points, "labels": labels,
            "left": left, "right": right}


def utc_today() -> date:
    return datetime.now(timezone.utc).date()
