"""What the detectors look at: the parsed message plus cheap, precomputed sniffing values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import dsn
from . import message as m

BOUNCE_FROM_RE = re.compile(
    r"mailer-daemon|postmaster|mail delivery|mail administrator|mdaemon|maildelivery|"
    r"system administrator|double-bounce|bounce|mail system|notification|nobody@|"
    r"daemon@|mailer@|mail-router|returned|undeliver|noreply|no-reply|administrator", re.I)
BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|undelivered|delivery (?:status|failure|failed|notification|problem|report)|"
    r"returned mail|mail delivery|failure notice|could not be delivered|nondeliverable|"
    r"non[- ]?delivery|delivery has failed|rejected|bounce|warning|not delivered|failed|"
    r"error|unable to deliver|deliver(?:y)? report|mail system error|returned|permanent|"
    r"fehlgeschlagen|unzustellbar|non remis|no entregado|不達|エラー|未送达|退信|"
    r"не доставлено|недоставлен|ошибк|mail could not|message you sent", re.I)


@dataclass(slots=True)
class Context:
    msg: m.Part
    from_: str
    subject: str
    ctype: str
    dsn_parts: list[m.Part]
    original_part: m.Part | None
    human: str                       # first text/plain part (outside the original message)
    exclude: set[str] = field(default_factory=set)   # the bounce's own From/To addresses
    from_exclude: set[str] = field(default_factory=set)  # the bounce's From addresses only
    _body: str | None = None
    _seen: dict[str, str] = field(default_factory=dict)  # header() answers: sniffs ask alike

    @classmethod
    def of(cls, msg: m.Part) -> "Context":
        dsn_parts, original, human = dsn.find_parts(msg)
        from_ = m.header(msg, "From")
        from_exclude = {a.lower() for a in m.addresses(from_)}
        exclude = set(from_exclude)
        exclude.update(a.lower() for a in m.addresses(m.header(msg, "To")))
        return cls(msg=msg, from_=from_.lower(), subject=m.header(msg, "Subject"),
                   ctype=msg.get_content_type(), dsn_parts=dsn_parts, original_part=original,
                   human=human, exclude=exclude, from_exclude=from_exclude)

    @property
    def body(self) -> str:
        """Human-readable text: the whole text of a single-part message, else the text parts
        outside the returned original."""
        if self._body is None:
            if not self.msg.is_multipart():
                self._body = m.text_of(self.msg)
            else:
                texts = []
                inside = 0
                for part, depth in m.walk(self.msg):
                    if inside and depth > inside:
                        continue
                    inside = 0
                    ctype = part.get_content_type()
                    if ctype in dsn.ORIGINAL_TYPES:
                        inside = depth
                    elif ctype.startswith("text/") and ctype != "text/html" or ctype in dsn.DSN_TYPES:
                        if ctype not in dsn.DSN_TYPES:
                            texts.append(m.text_of(part))
                if not texts:
                    for part, _ in m.walk(self.msg):
                        if part.get_content_type() == "text/html":
                            texts.append(_strip_html(m.text_of(part)))
                            break
                self._body = "\n".join(texts)[:m.MAX_TEXT]
        return self._body

    def header(self, name: str) -> str:
        value = self._seen.get(name)
        if value is None:
            value = self._seen[name] = m.header(self.msg, name)
        return value

    def looks_like_bounce(self) -> bool:
        return bool(BOUNCE_FROM_RE.search(self.from_) or BOUNCE_SUBJECT_RE.search(self.subject)
                    or self.dsn_parts or self.msg.get("X-Failed-Recipients"))


_TAG_RE = re.compile(r"<(?:br|p|div|tr|li)[^>]{0,200}>", re.I)
_ANY_TAG_RE = re.compile(r"<[^<>]{0,500}>")


def _strip_html(html: str) -> str:
    import html as _html
    text = _TAG_RE.sub("\n", html)
    text = _ANY_TAG_RE.sub(" ", text)
    return _html.unescape(text)
