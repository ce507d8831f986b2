"""The two kinds of rule the classifier reads: general wordings and a provider's own words.

Both are plain data. `label` says what the words mean (it becomes the result's `rule`, read by
a sysadmin: it describes the wording, it does not guess which MTA wrote it); `source` says
where such text is documented or written (the MTA's source file or manual page, the
provider's published error-code page, the RFC section), with the open-source analyser whose
library lists the same text as a secondary source where there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str   # regular expression, matched case-insensitively on the diagnostic
    reason: str    # one of model.REASONS
    label: str     # what the wording says, for people reading `rule`
    source: str    # where such text comes from
    weak: bool = False    # a catch-all: decides only when no other rule and no status does
    strong: bool = False  # notaccept: an explicit null-MX / no-MX statement, evidence enough
                          # for a hard result (a weak match never is); userunknown: a wording
                          # only said where the address is looked up (a recipient table, a
                          # local delivery agent), so whatever SMTP command is known

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.I)

    @property
    def where(self) -> str:  # the label and its source, as one line for logs and tests
        return f"{self.label} ({self.source})"


@dataclass(frozen=True, slots=True)
class ProviderRule:
    """Words one provider gives a meaning of its own: they decide before the general order
    when the remote host (Remote-MTA, or the recipient's domain) is that provider's."""
    host: str      # regular expression on the remote host / recipient domain; "" = any host
    pattern: str   # regular expression on the diagnostic text
    reason: str
    where: str     # the provider's wording and the page that documents it
    status: str = ""  # when set, the status code must match it too
    not_at: str = ""  # an SMTP command (RCPT, DATA ...) at which the words mean something else

    @property
    def source(self) -> str:
        return self.where
