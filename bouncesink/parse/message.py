"""Bounded access to a raw message: read it, walk its parts, decode text.

`load` returns a `Part`, a small MIME reader over bytes that answers the questions the
detectors ask (the subset of `email.message.Message` they use, with compat32's answers) at a
fraction of the cost of the standard library's parser, which parses and decodes everything up
front. Here the header block of a part is read when it is first looked at, a multipart body
is split (with bytes.find on the boundary) when its parts are first asked for, and transfer
encodings and charsets are undone only for the parts whose text is asked for.

It follows the standard library's parser (RFC 5322 / RFC 2045-2046 as compat32 reads them)
where the detectors can tell: which lines are header lines, the folded value kept with its
line breaks, the Content-Type rules (a type without exactly one "/" is text/plain, the
multipart/digest default), delimiter lines ("--" boundary, optional "--", trailing blanks),
the newline before a delimiter belonging to the delimiter, runs of delimiter lines, a
multipart without any delimiter read as one text, message/delivery-status read as blocks of
fields, any other message/* read as one enclosed message. It departs from it on purpose where
the standard library is wrong for us: 8-bit header bytes are read as UTF-8 (latin-1 when
invalid) instead of replacement characters, a transfer encoding with trailing blanks is still
recognised, and every cap below applies.

Everything a stranger controls is capped here: the bytes read, the MIME parts visited, the
nesting depth, the header lines and their length, the characters of text handed to detectors.
"""

from __future__ import annotations

import binascii
import re
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

MAX_BYTES = 1 << 20          # first 1 MiB of the raw message is examined
MAX_PARTS = 64               # MIME parts visited (and read per multipart)
MAX_DEPTH = 8                # nesting of multiparts / message/rfc822
MAX_TEXT = 256 * 1024        # characters of decoded text handed to detectors
MAX_HEADER_LINE = 4096       # a header line longer than this is cut
MAX_HEADERS = 500            # header fields read per header block
MAX_HEADER_BLOCK = 256 * 1024  # bytes of a header block read for its fields
MAX_BLOCKS = 200             # field blocks read from a message/delivery-status part
MAX_EMAIL_BYTES = 256 * 1024  # bytes handed to the stdlib parser (for flufl.bounce)
MAX_EMAIL_LINES = 5000       # lines handed to it

ADDR_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,128}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+")
_QUOTED_ADDR_RE = re.compile(r'"[^"\s\\]{1,64}"@[A-Za-z0-9][A-Za-z0-9.-]{1,250}[A-Za-z0-9]')
# tried at line starts only: from every start, a run of 4,095 characters cost 4,095 steps each
_LONG_LINE = re.compile(rb"^[^\n]{%d,}+" % MAX_HEADER_LINE, re.M)

# The run of header and continuation lines at the start of a part: compat32's headerRE
# (a name of printable ASCII but ":" and blank, then ":"; or a line starting with a blank).
# Possessive: a greedy group repeat keeps backtracking state per line (16 MB for 50,000 lines).
_HEADER_RUN = re.compile(rb"(?:(?:[\x21-\x39\x3b-\x7e]*:|[ \t])[^\n]*(?:\n|\Z))*+")
_BLANK_LINE = re.compile(rb"\r?\n")
# The first Content-Type field of a header block (read alone: most parts need no other).
_CTYPE_FIELD = re.compile(rb"^content-type:[ \t]*+(.*(?:\n[ \t].*)*)", re.I | re.M)
# One field of a header block already known to hold only field and continuation lines:
# compat32's header_source_parse (value left-stripped, folds kept, final newline dropped).
_FIELD = re.compile(r"^([^:\s]*):[ \t]*+(.*(?:\n[ \t].*)*)", re.M)
_DELIM_TAIL = re.compile(rb"(--)?[ \t]*(?:\r?\n|\Z)")
_MISSING = object()
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us"})


# a line end followed by two or more blank lines
_BLANK_RUN = re.compile(rb"\n(?:[ \t\r]*+\n){2,}+")
_LONE_CR = re.compile(rb"\r(?![\r\n])")


def load(raw: bytes) -> "Part":
    return Part(newlines(bytes(raw[:MAX_BYTES])))


def newlines(raw: bytes) -> bytes:
    """Line ends as the readers expect them. LF and CRLF are read as they come; a message
    whose lines end in CR alone (classic Mac OS mailers, some gateways and mailbox exports)
    has them made LF, and a lone CR inside an otherwise LF/CRLF message too (a CR that
    precedes another CR or LF is left alone: "\r\r\n" is one line end, not two)."""
    if b"\r" not in raw:
        return raw
    if b"\n" not in raw:
        return raw.replace(b"\r", b"\n")
    if raw.count(b"\r") == raw.count(b"\r\n"):
        return raw
    return _LONE_CR.sub(b"\n", raw)


def load_email(raw: bytes) -> Message:
    """The standard library's message, for code that needs one (flufl.bounce, the last
    fallback): the first MAX_EMAIL_BYTES only, lines longer than MAX_HEADER_LINE cut, as
    the stdlib parser and flufl.bounce's line regexes are slow on long ones (0.5 s on one
    line of 1 MB)."""
    raw = newlines(raw[:MAX_EMAIL_BYTES])
    if _LONG_LINE.search(raw):
        raw = _LONG_LINE.sub(lambda mo: mo.group(0)[:MAX_HEADER_LINE], raw)
    # flufl.bounce's detectors try every pattern on every line (simplematch: 5 million
    # searches, 10 s, for 96,000 blank lines): runs of blank lines made one, lines capped
    if raw.count(b"\n") > MAX_EMAIL_LINES:
        raw = b"\n".join(raw.split(b"\n", MAX_EMAIL_LINES)[:MAX_EMAIL_LINES])
    raw = _BLANK_RUN.sub(b"\n\n", raw)
    return message_from_bytes(raw, policy=compat32)


def _decode_head(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # one header in UTF-8 and another in latin-1: decide per line
        out = []
        for line in data.split(b"\n"):
            try:
                out.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(line.decode("latin-1"))
        return "\n".join(out)


def _parse_header_lines(text: str) -> list[tuple[str, str]]:
    """compat32's header_source_parse over the lines of a header block."""
    headers: list[tuple[str, str]] = []
    name = value = None
    for line in text.split("\n", MAX_HEADERS * 8):
        if len(line) > MAX_HEADER_LINE:
            line = line[:MAX_HEADER_LINE]
        if line[:1] in (" ", "\t"):
            if name is not None:
                value += "\n" + line
            continue  # a continuation without a header before it is dropped, as compat32 does
        if not line:
            continue
        if name is not None:
            headers.append((name, value.rstrip("\r\n")))
            if len(headers) >= MAX_HEADERS:
                return headers
        name, _, value = line.partition(":")
        value = value.lstrip(" \t")
    if name is not None and len(headers) < MAX_HEADERS:
        headers.append((name, value.rstrip("\r\n")))
    return headers


def _split_params(value: str) -> list[str]:
    """email.message._parseparam: split on ";" outside quoted strings."""
    s = ";" + value
    plist = []
    while s[:1] == ";":
        s = s[1:]
        end = s.find(";")
        while end > 0 and (s.count('"', 0, end) - s.count('\\"', 0, end)) % 2:
            end = s.find(";", end + 1)
        if end < 0:
            end = len(s)
        f = s[:end]
        if "=" in f:
            i = f.index("=")
            f = f[:i].strip().lower() + "=" + f[i + 1:].strip()
        plist.append(f.strip())
        s = s[end:]
        if len(plist) > 100:
            break
    return plist


def _unquote(value: str) -> str:
    if len(value) > 1:
        if value[0] == '"' and value[-1] == '"':
            return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if value[0] == "<" and value[-1] == ">":
            return value[1:-1]
    return value


def _decode_b64(data: bytes) -> bytes:
    """email._encoded_words.decode_b on a body: padding repaired, stray characters skipped."""
    data = b"".join(data.split())
    pad = len(data) % 4
    try:
        return binascii.a2b_base64(data + b"==="[:4 - pad] if pad else data, strict_mode=True)
    except binascii.Error:
        pass
    for attempt in (data, data + b"=="):
        try:
            return binascii.a2b_base64(attempt)
        except binascii.Error:
            continue
    return data


class Part:
    """One MIME part (or the whole message), read lazily from its bytes.

    The API is the part of email.message.Message that the detectors use, with compat32's
    answers: get, get_all, items, keys, `in`, get_content_type, get_content_maintype,
    get_content_subtype, get_param, get_params, get_content_charset, get_filename,
    get_payload([decode]), is_multipart.
    """

    __slots__ = ("raw", "depth", "_default", "_headers", "_index", "_head", "_body", "_ctype",
                 "_ctvalue", "_params", "_payload", "_text", "_walked", "fields")

    def __init__(self, raw: bytes, depth: int = 0, default_type: str = "text/plain",
                 headers_only: bool = False):
        self.raw = raw
        self.depth = depth
        self._default = default_type
        self._headers: list[tuple[str, str]] | None = None
        self._index: dict[str, str] | None = None
        self._head: tuple[int, int] | None = None   # the header block's bounds in raw
        self._body: bytes | None = None
        self._ctype: str | None = None
        self._ctvalue: object = None                 # Content-Type value, _MISSING if none
        self._params: list[tuple[str, object]] | None = None
        self._payload = None
        self._text: str | None = None
        self._walked: list | None = None
        self.fields: list | None = None              # dsn.field_blocks_of's answer, kept
        if headers_only:  # a delivery-status block: never a container
            self._payload = ""

    # --- headers ---------------------------------------------------------------------
    def _locate(self) -> tuple[int, int]:
        """Where the header block is and where the body starts (compat32's header lines:
        the run of field and continuation lines, then one blank line if there is one)."""
        raw = self.raw
        start = 0
        if raw[:5] == b"From ":  # mbox "From " line (compat32 keeps it as the unixfrom)
            nl = raw.find(b"\n")
            start = len(raw) if nl < 0 else nl + 1
        end = _HEADER_RUN.match(raw, start).end()
        blank = _BLANK_LINE.match(raw, end)
        self._body = raw[blank.end():] if blank else raw[end:]
        self._head = (start, min(end, start + MAX_HEADER_BLOCK))
        return self._head

    def _read_headers(self) -> None:
        start, end = self._head or self._locate()
        head = self.raw[start:end]
        if not head:
            self._headers = []
        elif len(head) <= MAX_HEADER_LINE:  # no line to cut, few fields: one C call
            text = _decode_head(head)
            fields = _FIELD.findall(text)
            if "\r" in text:
                fields = [(n, v.rstrip("\r\n")) for n, v in fields]
            self._headers = fields
        else:
            self._headers = _parse_header_lines(_decode_head(head))

    def _content_type_value(self):
        """The Content-Type field's value (as get() gives it) or _MISSING, without reading
        the other fields: most parts are asked for nothing else."""
        value = self._ctvalue
        if value is None:
            if self._headers is not None:
                value = self._lookup("content-type", _MISSING)
            else:
                start, end = self._head or self._locate()
                if end - start > MAX_HEADER_LINE:  # lines may need cutting: read them all
                    value = self._lookup("content-type", _MISSING)
                else:
                    # the first line starting "content-type:" found by bytes.find (re.I
                    # under a "^" tries the pattern at every character of the block)
                    head = self.raw[start:end].lower()
                    if head.startswith(b"content-type:"):
                        at = 0
                    else:
                        at = head.find(b"\ncontent-type:")
                        at = -1 if at < 0 else at + 1
                    mo = None if at < 0 else _CTYPE_FIELD.match(self.raw, start + at, end)
                    value = _MISSING if mo is None else _decode_head(mo.group(1)).rstrip("\r\n")
            self._ctvalue = value
        return value

    def _lookup(self, name: str, failobj=None):
        """The first field named `name` (any case), as Message.get."""
        headers = self._headers
        if headers is None:
            self._read_headers()
            headers = self._headers
        index = self._index
        if index is None:
            if len(headers) <= 6:  # a MIME part's few fields: no index worth building
                key = name.lower()
                for n, v in headers:
                    if n.lower() == key:
                        return v
                return failobj
            index = self._index = {n.lower(): v for n, v in reversed(headers)}
        return index.get(name.lower(), failobj)

    def get(self, name: str, failobj=None):
        return self._lookup(name, failobj)

    __getitem__ = get

    def __contains__(self, name: str) -> bool:
        return self._lookup(name, _MISSING) is not _MISSING

    def get_all(self, name: str, failobj=None):
        if self._headers is None:
            self._read_headers()
        key = name.lower()
        found = [v for n, v in self._headers if n.lower() == key]
        return found or failobj

    def items(self) -> list[tuple[str, str]]:
        if self._headers is None:
            self._read_headers()
        return list(self._headers)

    def keys(self) -> list[str]:
        return [n for n, _ in self.items()]

    def values(self) -> list[str]:
        return [v for _, v in self.items()]

    def __len__(self) -> int:
        return len(self.items())

    def __iter__(self):
        return iter(self.keys())

    # --- content type ----------------------------------------------------------------
    def get_content_type(self) -> str:
        if self._ctype is None:
            value = self._content_type_value()
            if value is _MISSING:
                self._ctype = self._default
            else:
                ctype = value.split(";", 1)[0].strip().lower()
                self._ctype = ctype if ctype.count("/") == 1 else "text/plain"
        return self._ctype

    def get_content_maintype(self) -> str:
        return self.get_content_type().split("/")[0]

    def get_content_subtype(self) -> str:
        return self.get_content_type().split("/")[1]

    def get_default_type(self) -> str:
        return self._default

    def _param_list(self, header: str = "content-type") -> list[tuple[str, object]] | None:
        if header != "content-type":
            value = self.get(header)
            return None if value is None else self._parse_params(value)
        params = self._params
        if params is None:
            value = self._content_type_value()
            params = self._params = _MISSING if value is _MISSING else self._parse_params(value)
        return None if params is _MISSING else params

    @staticmethod
    def _parse_params(value: str) -> list[tuple[str, object]]:
        params: list[tuple[str, str]] = []
        if "\\" not in value and "*" not in value and not any(
                ";" in q for q in value.split('"')[1::2]):
            # no ";" inside quotes, no escapes, no RFC 2231: a plain split says the same
            for p in value.split(";")[:100]:
                name, sep, val = p.partition("=")
                params.append((name.strip().lower(), _unquote(val.strip())) if sep else (p.strip(), ""))
            return params
        for p in _split_params(value):
            name, sep, val = p.partition("=")
            params.append((name.strip(), val.strip()) if sep else (p.strip(), ""))
        if any("*" in n for n, _ in params[1:]):  # RFC 2231 continuations / charsets
            from email.utils import decode_params
            try:
                decoded = decode_params(params)
            except Exception:  # malformed RFC 2231: keep the plain values
                decoded = params
            out: list[tuple[str, object]] = []
            for n, v in decoded:
                out.append((n, (v[0], v[1], _unquote(v[2])) if isinstance(v, tuple) else _unquote(v)))
            return out
        return [(n, _unquote(v)) for n, v in params]

    def get_params(self, failobj=None, header: str = "content-type", unquote: bool = True):
        params = self._param_list(header)
        return failobj if params is None else list(params)

    def get_param(self, param: str, failobj=None, header: str = "content-type", unquote: bool = True):
        params = self._param_list(header)
        if not params:
            return failobj
        key = param.lower()
        for name, value in params:
            if name.lower() == key:
                return value
        return failobj

    def get_content_charset(self, failobj=None):
        missing = object()
        charset = self.get_param("charset", missing)
        if charset is missing:
            return failobj
        if isinstance(charset, tuple):
            try:
                charset = charset[2].encode("raw-unicode-escape").decode(charset[0] or "us-ascii")
            except (LookupError, ValueError):
                charset = charset[2]
        if not charset.isascii():
            return failobj
        return charset.lower()

    def get_boundary(self, failobj=None):
        boundary = self.get_param("boundary", None)
        if boundary is None:
            return failobj
        if isinstance(boundary, tuple):
            from email.utils import collapse_rfc2231_value
            boundary = collapse_rfc2231_value(boundary)
        return boundary.rstrip()

    def get_filename(self, failobj=None):
        missing = object()
        name = self.get_param("filename", missing, "content-disposition")
        if name is missing:
            name = self.get_param("name", missing, "content-type")
        if name is missing:
            return failobj
        if isinstance(name, tuple):
            from email.utils import collapse_rfc2231_value
            name = collapse_rfc2231_value(name)
        return name.strip()

    # --- payload ---------------------------------------------------------------------
    def _load_payload(self):
        if self._body is None:
            self._locate()
        ctype = self.get_content_type()
        body = self._body
        payload: object = None
        if self.depth < MAX_DEPTH:
            if ctype == "message/delivery-status":
                payload = _blocks(body, self.depth + 1)
            elif ctype.startswith("message/"):
                payload = [Part(body, self.depth + 1)]
            elif ctype.startswith("multipart/"):
                payload = self._split(body)
        self._payload = body if payload is None else payload

    def _split(self, body: bytes):
        """The parts of a multipart body, or None when it has no delimiter (compat32 then
        keeps the whole body as text)."""
        boundary = self.get_boundary()
        if boundary is None:
            return None
        try:
            delim = b"--" + boundary.encode("utf-8")
        except UnicodeError:
            return None
        default = "message/rfc822" if self.get_content_type() == "multipart/digest" else "text/plain"
        parts: list[Part] = []
        pos = 0
        start = None          # where the current part's content starts
        n = len(body)
        while True:
            at = body.find(delim, pos)
            if at < 0:
                break
            pos = at + 1
            if at and body[at - 1] != 10:  # not at the start of a line
                continue
            tail = _DELIM_TAIL.match(body, at + len(delim))
            if tail is None:
                continue
            # the newline before a delimiter belongs to the delimiter (RFC 2046 s.5.1.1)
            cut = at - 1 if at else 0
            if cut and body[cut - 1] == 13:
                cut -= 1
            if start is not None and cut >= start:
                if len(parts) >= MAX_PARTS:
                    return parts
                parts.append(Part(body[start:cut], self.depth + 1, default))
            if tail.group(1):  # close delimiter
                if start is None:  # closed before it opened: compat32 keeps the preamble as text
                    return body[:cut]
                return parts
            pos = tail.end()
            # a run of delimiter lines opens one part, not empty ones in between
            while True:
                nxt = body.startswith(delim, pos) and _DELIM_TAIL.match(body, pos + len(delim))
                if not nxt or pos >= n:
                    break
                pos = nxt.end()
            start = pos
        if start is None:
            return None
        if len(parts) < MAX_PARTS and start <= n:
            parts.append(Part(body[start:], self.depth + 1, default))  # no close delimiter
        return parts

    def get_payload(self, i: int | None = None, decode: bool = False):
        if self._payload is None:
            self._load_payload()
        payload = self._payload
        if isinstance(payload, list):
            if decode:
                return None
            return payload if i is None else payload[i]
        if decode:
            return self._decoded()
        if isinstance(payload, str):
            return payload
        try:
            return payload.decode("ascii")
        except UnicodeDecodeError:
            return _decode_text(payload, self.get_param("charset") if isinstance(self.get_param("charset"), str) else None)

    def _decoded(self) -> bytes:
        payload = self._payload
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
        cte = self.get("content-transfer-encoding")
        if cte is None:
            return data
        cte = cte.strip().lower()
        if cte == "base64":
            return _decode_b64(data)
        if cte == "quoted-printable":
            return binascii.a2b_qp(data)
        if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
            return _decode_uu(data)
        return data

    def is_multipart(self) -> bool:
        if self._payload is None:
            self._load_payload()
        return isinstance(self._payload, list)

    def walk(self):
        for part, _ in walk(self):
            yield part

    def as_bytes(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Part {self.get_content_type()} depth={self.depth} {len(self.raw)} bytes>"


def _blocks(body: bytes, depth: int) -> list[Part]:
    """message/delivery-status: blocks of fields separated by blank lines (RFC 3464 s.2)."""
    text = body.replace(b"\r\n", b"\n")
    out = []
    for chunk in text.split(b"\n\n"):
        chunk = chunk.strip(b"\n")
        if chunk:
            out.append(Part(chunk + b"\n", depth, headers_only=True))
            if len(out) >= MAX_BLOCKS:
                break
    for part in out:
        part._read_headers()
        part._payload = part._body.decode("utf-8", "replace") if part._body else ""
    return out


def _decode_uu(data: bytes) -> bytes:
    out = []
    lines = iter(data.splitlines())
    for line in lines:
        if line.startswith(b"begin "):
            break
    for line in lines:
        if line.strip() in (b"end", b"`"):
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            try:
                nbytes = (((line[0] - 32) & 63) * 4 + 5) // 3
                out.append(binascii.a2b_uu(line[:nbytes]))
            except (binascii.Error, IndexError):
                continue
    return b"".join(out)


def _decode_text(data: bytes, charset: str | None) -> str:
    if charset:
        try:
            return data.decode(charset, "replace")
        except (LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def walk(msg: Part):
    """Depth-first parts, bounded in count and depth: an iterator of (part, depth).

    The detectors walk a message several times (DSN parts, body text, report sniffing): the
    list of a Part's parts is made once (at most MAX_PARTS) and kept on it."""
    if isinstance(msg, Part):
        walked = msg._walked
        if walked is None:
            walked = msg._walked = list(_walk(msg))
        return iter(walked)
    return _walk(msg)


def _walk(msg):
    stack = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part, depth
        if depth >= MAX_DEPTH:
            continue
        if type(part) is Part:  # its payload read directly: this loop runs for every part
            payload = part._payload
            if payload is None:
                part._load_payload()
                payload = part._payload
        else:
            payload = part.get_payload()
        if isinstance(payload, list):
            for sub in reversed(payload):
                if isinstance(sub, (Part, Message)):
                    stack.append((sub, depth + 1))


def text_of(part) -> str:
    """The decoded text of a non-multipart part (transfer encoding and charset undone)."""
    if isinstance(part, Part):
        if part._text is None:
            part._text = _text_of(part)
        return part._text
    return _text_of(part)


def _text_of(part) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        raw = part.get_payload()
        return raw[:MAX_TEXT] if isinstance(raw, str) else ""
    payload = payload[:MAX_TEXT * 2]
    charset = part.get_content_charset() or "utf-8"
    if charset in _ASCII_NAMES and not payload.isascii():
        charset = "utf-8"  # 8-bit text under a us-ascii (or no) declaration: mostly UTF-8
    try:
        return payload.decode(charset, "replace")[:MAX_TEXT]
    except (LookupError, ValueError):  # unknown charset, or a name holding NUL (ValueError):
        # UTF-8 when it is, else one character per byte
        return _decode_text(payload, None)[:MAX_TEXT]


def header(msg, name: str) -> str:
    """One header as a plain, unfolded, decoded-enough string ("" when absent)."""
    value = msg.get(name)
    if value is None:
        return ""
    value = str(value)
    if "=?" in value:
        value = decode_words(value)
    return " ".join(value.split())


def decode_words(value: str) -> str:
    from email.header import decode_header
    try:
        out = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                try:
                    chunk = chunk.decode(charset or "utf-8", "replace")
                except (LookupError, ValueError):
                    chunk = chunk.decode("latin-1")
            out.append(chunk)
        return "".join(out)
    except Exception:  # malformed encoded words: keep them as sent
        return value


def headers_dict(msg) -> dict[str, str]:
    """Headers of an (original) message, lower-case names, first occurrence wins."""
    out: dict[str, str] = {}
    for name, value in msg.items()[:200]:
        key = name.strip().lower()
        if key and key not in out:
            value = str(value)
            if "=?" in value:
                value = decode_words(value)
            out[key] = " ".join(value.split())[:2000]
    return out


def parse_headers_text(text: str) -> dict[str, str]:
    """Headers from a block of text (text/rfc822-headers, or an inlined original)."""
    text = text.lstrip("\r\n")[:65536]
    cut = text.find("\n\n")
    if cut >= 0:
        text = text[:cut]
    out: dict[str, str] = {}
    name = None
    for line in text.splitlines()[:500]:
        if not line.strip():
            break
        if line[0] in " \t" and name:
            out[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep or " " in key.strip() or not key.strip():
            name = None
            continue
        name = key.strip().lower()
        if name in out:
            name = None
            continue
        out[name] = value.strip()
    for key, value in out.items():
        if "=?" in value:
            out[key] = decode_words(value)
    return out


def addresses(text: str) -> list[str]:
    return ADDR_RE.findall(text)


def clean_address(value: str) -> str:
    """'rfc822; <Kijitora@example.jp>' -> 'Kijitora@example.jp' ("" if no address)."""
    if not value:
        return ""
    if ";" in value:
        kind, _, rest = value.partition(";")
        if "@" not in kind or kind.strip().lower() in ("rfc822", "x-unix"):
            value = rest
    q = _QUOTED_ADDR_RE.search(value)
    if q:
        return q.group(0)  # RFC 5321 quoted local part: "neko..nyaan"@example.org
    m = ADDR_RE.search(value)
    if not m:
        return ""
    addr = m.group(0).strip(".'")
    return addr
