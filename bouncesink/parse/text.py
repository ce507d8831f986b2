"""Free-text bounces: find the failed recipients and the words said about each.

Used by the MTA detectors (with their own markers) and as the generic last resort before
flufl.bounce. The body is cut where the returned original message starts (a marker line, a
message/rfc822 boundary, or a block of ordinary mail headers), so addresses of the original
message are never taken for failed recipients. Around each address the paragraph that
follows (indented continuation lines, "Remote host said:", transcript lines) is the
diagnostic.
"""

from __future__ import annotations

import re

from ..classify.prefilter import guard
from ..model import Result
from . import message as m
from .dsn import REPLY_RE

# Lines after which the returned original message follows (MTA-written separators).
END_RE = re.compile(
    # possessive blanks: "\s*(...)?\s*" split a run of blanks every way (issue 15: 40,000
    # spaces took 84 s); the separator's run is possessive too (nothing after it is one)
    r"^\s*+(?:[-=_*#>]{2,}+.{0,10})?\s*+(?:"
    r"this is a copy of the message|a copy of the original message|"
    r"original message|original message follows|original message header|"
    r"(?:the )?(?:original|returned|undelivered|unsent|undeliverable) (?:message|mail)(?!\s+(?:was|has|had|sent|to|could|from|you|that|is not|cannot))|"
    r"below this line is a copy of the message|message headers? follows?|headers of the original|"
    r"your message reads|rfc822 headers|returned message|text of the message follows|"
    r"the header of the original message is following|the message header follows|"
    r"the non-delivered message|message text follows|"
    r"content-type: message/rfc822|original headers|Headers are|envelope of the original|"
    r"元のメッセージ|以下(?:に)?元|原始邮件|原件|оригинальное сообщение|исходное сообщение|"
    r"message d'origine|ursprüngliche nachricht|mensaje original"
    r")", re.I)
# END_RE as a case-sensitive pattern over a lower-cased ASCII line: the same answer (re.I does
# ASCII case folding to ASCII text) at a third of the cost (under re.I the engine cannot skip
# an alternative on its first character; 4.4 us a line, the most expensive step of a section)
assert not re.search(r"\\[A-Z]", END_RE.pattern)  # lower() would change such an escape
_END_LOWER = re.compile(END_RE.pattern.lower())


def _ends_section(line: str) -> bool:
    if line.isascii():
        return _END_LOWER.search(line.lower()) is not None
    return END_RE.search(line) is not None


_HEADER_LINE = re.compile(
    r"^(?:Return-Path|Received|Message-I[Dd]|From|Date|Subject|To|Cc|DKIM-Signature|MIME-Version|"
    r"Content-Type|X-[A-Za-z0-9-]+|Delivered-To|Reply-To|Sender|Authentication-Results|"
    r"ARC-[A-Za-z-]+|Thread-[A-Za-z]+|In-Reply-To|References|User-Agent)\s*:", re.I)
_SENDERISH = re.compile(r"(?:mail from|from|sender|envelope-from|return-path|reply-to|message-id|msgid|\bid|sent by|"
                        r"contact|write to|e-?mail us at|reach us at)\s*+[:=]?\s*+<?$", re.I)  # helpdesk addresses (OCN, ISPs)
# the same on a lower-cased ASCII text, case-sensitive (see _END_LOWER): 2-4x cheaper
assert not re.search(r"\\[A-Z]", _SENDERISH.pattern)
_SENDERISH_LOWER = re.compile(_SENDERISH.pattern.lower())


def _senderish(before: str) -> bool:
    """The words before an address name a sender or a helpdesk, not a failed recipient."""
    if before.isascii():
        low = before.lower()
        return bool(_SENDERISH_LOWER.search(low + "<") or _SENDERISH_LOWER.search(low))
    return bool(_SENDERISH.search(before + "<") or _SENDERISH.search(before))


_DAEMON_LOCAL = re.compile(r"^(?:mailer-daemon|postmaster|root|daemon|mail-daemon|nobody|noreply|no-reply)$", re.I)


def error_section(text: str, start: re.Pattern[str] | None = None,
                  end: re.Pattern[str] | None = None) -> list[str]:
    """The lines of the human-readable part that describe the failure."""
    lines = text[:m.MAX_TEXT].splitlines()[:3000]
    if start is not None:
        for i, line in enumerate(lines):
            if start.search(line):
                lines = lines[i + 1:] if not m.ADDR_RE.search(line) else lines[i:]
                break
        else:
            return []
    out: list[str] = []
    for i, line in enumerate(lines):
        if (end is not None and end.search(line)) or _ends_section(line):
            break
        if _HEADER_LINE.match(line) and _header_block(lines, i):
            break  # a block of mail headers: the original message starts here
        out.append(line)
    return out


def _header_block(lines: list[str], i: int) -> bool:
    """At least three consecutive header lines (continuations counted) start at line i."""
    count = 0
    for line in lines[i:i + 6]:
        if _HEADER_LINE.match(line) or (count and line[:1] in (" ", "\t") and line.strip()):
            count += 1
            if count >= 3:
                return True
        else:
            break
    return False


def scan(lines: list[str], exclude: set[str], only: list[str] | None = None,
         detector: str = "text") -> list[Result]:
    """One Result per failed address found in `lines` (addresses in `exclude` are skipped).

    When `only` is given (e.g. X-Failed-Recipients), only those addresses are reported and
    the text is searched just for their diagnostics.
    """
    found: dict[str, Result] = {}
    scores: dict[str, int | None] = {}  # None: a status code is said, so at least 2
    order: list[str] = []
    wanted = {a.lower() for a in only} if only else None
    budget = _MAX_ADDRESSES  # addresses diagnosed: a stranger's text may list thousands
    for i, line in enumerate(lines):
        if "@" not in line:
            continue
        if budget <= 0:
            break
        for am in m.ADDR_RE.finditer(line):
            addr = am.group(0).strip(".'")
            key = addr.lower()
            if wanted is not None:
                if key not in wanted:
                    continue
            else:
                if key in exclude:
                    continue
                prefix = line[max(0, am.start() - 300):am.start()].rstrip("<\"' ")
                if len(prefix) < 20 and am.start() > 300:  # a long run of quotes: the whole prefix
                    prefix = line[:am.start()].rstrip("<\"' ")
                if _senderish(prefix[-20:]):
                    continue
                if _DAEMON_LOCAL.match(addr.split("@")[0]):
                    continue
            budget -= 1
            if budget < 0:
                break
            diag = diagnostic_near(lines, i, am.start(), am.end(), key)
            if key not in found:
                found[key] = Result(recipient=addr, diagnostic=diag, detector=detector)
                # the exact score matters only against another mention of the address
                scores[key] = None if _STATUS_RE.search(diag) else _score(diag)
                order.append(key)
            else:
                old = scores[key]
                if old is None:
                    old = scores[key] = _score(found[key].diagnostic)
                score = _score(diag)
                if score > old:
                    found[key].diagnostic = diag
                    scores[key] = score
    if wanted is not None:
        for addr in only or []:
            if addr.lower() not in found:
                found[addr.lower()] = Result(recipient=addr, detector=detector)
                scores[addr.lower()] = 0
                order.append(addr.lower())
    results = [found[k] for k in order]
    if results and all(scores[k] is not None and scores[k] < 2 for k in order):
        # the words are elsewhere in the section (a "Technical details" block, a lone reply)
        extra = best_line(lines)
        if extra:
            for r in results:
                if scores[r.recipient.lower()] < 2 and (len(results) == 1 or r.recipient.lower() in extra.lower()):
                    r.diagnostic = (r.diagnostic + " " + extra).strip() if r.diagnostic else extra
    for r in results:
        fill_codes(r)
    return results


def _score(diag: str) -> int:
    from ..classify.rules import match
    score = 0
    if _STATUS_RE.search(diag):
        score += 2
    if REPLY_RE.search(diag):
        score += 1
    if match(diag) is not None:
        score += 2
    return score


def _scores(diag: str, at_least: int) -> bool:
    """_score(diag) >= at_least (1 or 2), asking the rule table only when the codes do not
    settle it: the rules are the expensive part."""
    from ..classify.rules import match
    if _STATUS_RE.search(diag):
        return True
    if at_least == 1 and REPLY_RE.search(diag):
        return True
    return match(diag) is not None


def best_line(lines: list[str]) -> str:
    """The most informative single line of an error section."""
    best, best_score = "", 1
    for line in lines[:400]:
        if len(line) > 600 or not line.strip():
            continue
        codes = (2 if _STATUS_RE.search(line) else 0) + (1 if REPLY_RE.search(line) else 0)
        if codes + 2 <= best_score:
            continue  # even a rule's words could not make it better: the rules not asked
        score = codes + (2 if _rule_matches(line) else 0)
        if score > best_score:
            best, best_score = line.strip(), score
    return best


def _rule_matches(text: str) -> bool:
    from ..classify.rules import match
    return match(text) is not None


_BULLET_HEAD = "*-•>:<\"'("  # and blanks: what opens a bullet or quote before the words
_BULLET_TAIL = "\"'<>:("     # and blanks: what closes the words before an address


def _unbullet(s: str) -> str:
    """s without leading bullets/quotes and trailing quotes/brackets (blanks on both sides).
    str.strip, not a regex: "[...]+$" tried from every start of a blank run is quadratic."""
    while True:
        t = s.lstrip().lstrip(_BULLET_HEAD)
        if t == s:
            break
        s = t
    while True:
        t = s.rstrip().rstrip(_BULLET_TAIL)
        if t == s:
            return s
        s = t


def diagnostic_near(lines: list[str], i: int, start: int, end: int, key: str = "") -> str:
    """The words about the address on line i: the rest of the line and its paragraph; when
    those say nothing, the words before the address (Notes, IMail put the reason first)."""
    before = _unbullet(lines[i][max(0, start - 1000):start])  # bounded: lines can be 256K
    parts = [lines[i][end:end + 2000].strip(" :>;,.-)(\"'")]
    for line in lines[i + 1:i + 12]:
        if not line.strip():
            if any(p for p in parts):
                break
            continue
        am = m.ADDR_RE.search(line)
        if am and key and key not in line.lower() and not line[:1].isspace() \
                and not REPLY_RE.search(line[:12]) \
                and not line.lstrip().startswith(("(", "host", "SMTP", "Remote", "<<<", ">>>", "...")):
            break
        parts.append(line.strip())
    after = " ".join(p for p in parts if p)[:1000]
    if _scores(after, 2):
        return (before + " " + after).strip() if _scores(before, 2) else after
    if len(before) > 3 and any(c.isalpha() for c in before):
        return (before + " " + after).strip()[:1000]
    if not _scores(after, 1):
        prev = []
        for line in reversed(lines[max(0, i - 4):i]):
            if not line.strip():
                break
            prev.insert(0, line.strip())
        if prev and _scores(" ".join(prev), 1):
            return (" ".join(prev) + " " + after).strip()[:1000]
    return after


_MAX_ADDRESSES = 500  # addresses diagnosed per scan

# "(?<![\d.])([245])..." with the lookbehind after the first digit: the pattern starts with
# [245] and the engine skips to those characters (3x faster, same matches)
_STATUS_RE = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")


# Stalwart (crates/smtp/src/queue/dsn.rs) writes "(host 'mx' rejected command 'RCPT TO:<a>'
# with code 550 (5.5.0) '...')"
_COMMAND_RE = re.compile(
    r"(?:in reply to|after|did not like our|error in reply to|while talking to [^:]{0,80}:\s*>>>|"
    r"rejected command ')\s*"
    r"(?:the\s+|end of\s+|final\s+|initial\s+)?(data|rcpt(?: to)?|mail(?: from)?|helo|ehlo|connection|connect|message)\b", re.I)
_SENT_RE = re.compile(r"(?:>>>|SMTP:)\s*(DATA|RCPT|MAIL|HELO|EHLO)\b", re.I)
# tried only where "in reply to", "after", ">>>"... occur, not at every character (prefilter.py)
_COMMAND_RE, _SENT_RE = guard(_COMMAND_RE), guard(_SENT_RE)
# the same, case-sensitive, for lower-cased ASCII text (the command found is lower-cased
# anyway): under re.I the engine cannot skip an alternative on its first character
assert not re.search(r"\\[A-Z]", _COMMAND_RE.pattern + _SENT_RE.pattern)
_COMMAND_LOWER = guard(re.compile(_COMMAND_RE.pattern.lower()))
_SENT_LOWER = guard(re.compile(_SENT_RE.pattern.lower()))


def _sent(s: str) -> list[str]:
    """The commands quoted as sent (">>> RCPT", "SMTP: DATA"), lower-cased, in order."""
    if s.isascii():
        return _SENT_LOWER.findall(s.lower())
    return [c.lower() for c in _SENT_RE.findall(s)]


def _named(s: str, first: bool = False) -> list[str]:
    """The commands named ("in reply to RCPT TO", "after DATA"), lower-cased, in order (only
    the first when `first`)."""
    ascii_ = s.isascii()
    pattern, subject = (_COMMAND_LOWER, s.lower()) if ascii_ else (_COMMAND_RE, s)
    if first:
        mo = pattern.search(subject)
        return [] if mo is None else [mo.group(1).lower()]
    return [mo.group(1).lower() for mo in pattern.finditer(subject)]

_COMMANDS = {"data": "DATA", "message": "DATA", "rcpt": "RCPT", "rcpt to": "RCPT", "mail": "MAIL",
             "mail from": "MAIL", "helo": "HELO", "ehlo": "HELO", "connect": "CONN",
             "connection": "CONN"}


def fill_codes(r: Result) -> None:
    """Status, reply code and SMTP command from the diagnostic text.

    A status code in the remote server's own words is more precise than the Status field
    the reporting MTA wrote (which is often 5.0.0); where the diagnostic quotes several
    (a relay's words wrapping the final server's), the last one is the final server's.
    """
    found = _STATUS_RE.findall(r.diagnostic[:1000])
    if found:
        last = ".".join(found[-1])
        if not r.status or last[0] == r.status[0] or r.status.endswith(".0.0"):
            r.status = last
    if not r.command:
        sent = _sent(r.diagnostic[:1000])
        if sent:
            # Sendmail-style transcript: the last command we sent is the one refused
            r.command = _COMMANDS.get(sent[-1], "")
        else:
            named = _named(r.diagnostic[:1000], first=True)
            if named:
                r.command = _COMMANDS.get(named[0], "")
    if not r.reply_code:
        rm = REPLY_RE.search(r.diagnostic[:600])
        if rm:
            r.reply_code = rm.group(1)


def fill_commands(human: str, results: list[Result]) -> None:
    """The SMTP command each DSN recipient's failure answered, from the human-readable part.

    Postfix writes "(in reply to RCPT TO command)" after each recipient's words, Sendmail a
    transcript ">>> RCPT To:<...>" / "<<< 550 ...", Exim "after RCPT TO:<...>", Stalwart
    "rejected command 'RCPT TO:<...>'". The window
    after the recipient's address is searched first; a text naming one command only gives it
    to every recipient.
    """
    todo = [r for r in results if not r.command and r.recipient]
    if not todo:
        return
    flat = " ".join(human[:20000].split())
    if "@" not in flat and "reply to" not in flat:
        return
    lower = flat.lower()
    every: set[str] | None = None  # the commands named anywhere: read when first needed
    for r in todo:
        at = lower.find(r.recipient.lower())
        command = ""
        if at >= 0:
            window = flat[at:at + 600]
            sent = _sent(window)
            if sent:
                command = _COMMANDS.get(sent[-1], "")
            else:
                named = _named(window, first=True)
                if named:
                    command = _COMMANDS.get(named[0], "")
        if not command:
            if every is None:
                every = {_COMMANDS.get(c, "") for c in _sent(flat)}
                every.update(_COMMANDS.get(c, "") for c in _named(flat))
                every.discard("")
            if len(every) == 1:
                command = next(iter(every))
        r.command = command


def drop_bystanders(results: list[Result], original: dict[str, str]) -> list[Result]:
    """Free-text results minus addresses that merely appear in the explanation.

    ISPs' notices name their helpdesk ("please contact <support@...>", also in Japanese); such
    an address is not in the returned message's recipient headers and carries no failure
    words. It is dropped only when another result IS one of the original's recipients.
    """
    if len(results) < 2 or not original:
        return results
    named = " ".join(original.get(h, "") for h in ("to", "cc", "x-original-to", "delivered-to",
                                                    "envelope-to", "x-envelope-to")).lower()
    if not named:
        return results
    inside = [r for r in results if r.recipient and r.recipient.lower() in named]
    if not inside:
        return results
    return [r for r in results if r in inside or r.status or r.reply_code or _scores(r.diagnostic, 2)]


# "<<< 550-5.7.1 words" transcript lines (Sendmail's "Transcript of session follows", also
# written by Courier and others quoting the remote reply line by line)
_TRANSCRIPT_LINE = re.compile(r"^[ \t]*+<<<[ \t]*+([245]\d\d)([ -])[ \t]*+(.*)$")
_CONTINUED = re.compile(r"^([245]\d\d)-")
_LEAD_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}[ \t]+")


def complete_multiline(human: str, results: list[Result]) -> None:
    """A Diagnostic-Code holding only the first line of a multi-line reply ("550-5.7.1 ...":
    the "-" says more lines follow) gets the rest from the session transcript in the text.
    Sendmail (sendmail/deliver.c, the DSN's Diagnostic-Code takes the first reply line;
    its transcript, savemail.c, keeps them all as "<<< " lines)."""
    todo = [r for r in results if _CONTINUED.match(r.diagnostic)]
    if not todo or "<<<" not in human:
        return
    groups: list[list[tuple[str, str]]] = []  # runs of "<<< " reply lines: (code+sep, words)
    current: list[tuple[str, str]] = []
    for line in human[:m.MAX_TEXT].splitlines()[:3000]:
        tm = _TRANSCRIPT_LINE.match(line)
        if tm:
            current.append((tm.group(1) + tm.group(2), tm.group(3).strip()))
            if tm.group(2) == " ":
                groups.append(current)
                current = []
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    for r in todo:
        first = " ".join(r.diagnostic[4:].split())[:60].lower()
        for group in groups:
            if len(group) < 2 or not first or first not in " ".join(group[0][1].split()).lower():
                continue
            words = [group[0][1]] + [_LEAD_STATUS.sub("", w) for _, w in group[1:]]
            r.diagnostic = (group[-1][0].strip() + " " + " ".join(words))[:1000]
            break
