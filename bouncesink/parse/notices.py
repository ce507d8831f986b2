"""Automatic notices that are not failures: delay warnings and challenge-response requests.

Delay warnings ("not yet delivered, still trying") are written by the sending MTA while the
message is still queued; a recipient named in one is `delayed`, not failed, so it never
counts towards soft escalation. The wordings are the MTAs' own fixed texts:

- Postfix, bounce(5) / the built-in delay_template (src/bounce/bounce_template.c, shown by
  `postconf -b`): Subject "Delayed Mail (still being retried)" (postmaster copy "Postmaster
  Warning: Delayed Mail"), body "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR
  MESSAGE. #", "It will be retried until it is N day(s) old."
- Exim, src/deliver.c (send a warning message) with the default warn_message_file text:
  Subject "Warning: message <id> delayed <time>", body "has not yet been delivered to one or
  more of its recipients after more than ...", "No action is required on your part.
  Delivery attempts will continue for some time".
- Sendmail, sendmail/savemail.c and deliver.c: Subject "Warning: could not send message for
  past 4 hours", body "**      THIS IS A WARNING MESSAGE ONLY      **", "**  YOU DO NOT NEED
  TO RESEND YOUR MESSAGE  **", "Warning: message still undelivered after 4 hours", "Will keep
  trying until message is 5 days old".
- Microsoft Exchange: Subject "Delivery Status Notification (Delay)" and "THIS IS A WARNING
  MESSAGE ONLY." / "Delivery to the following recipients has been delayed."; Exchange
  Online: Subject "Delivery delayed:", "Delivery is delayed to these recipients or groups",
  "This message hasn't been delivered yet".
- Gmail (Google's delay DSN text): "Gmail will retry for N more hours".
- Lotus Domino: Subject "Delivery Delayed" / "DELIVERY DELAYED".
- XMail (SMAIL.cpp, the note given to QueUtNotifyTempErrDelivery): "** This is a temporary
  error and you do not have to resend the message", "** The system will try to resend the
  message at : <time>", under the same "Error sending message" layout as its final bounce.

Challenge-response systems answer mail from unknown senders with a request to prove the
sender is a person (and hold the message meanwhile); nothing failed, so such a message gives
no result. Their documented texts: Boxbe ("Guest List", "Boxbe"), Spam Arrest ("I'm
protecting myself from receiving junk mail", "complete the verification process"),
Mailblocks / EarthLink spamBlocker / ChoiceMail style "sender verification", "please verify
(that) you are (a) human", "confirm (that) you are not a spammer/robot", "add yourself to my
whitelist / approved senders".
"""

from __future__ import annotations

import re

from ..classify.prefilter import guard
from ..model import Result

_WARNING_SUBJECT = re.compile(
    r"^\s*+(?:warning: message \S{1,200} delayed|delayed mail \(still being retried\)|"
    r"postmaster warning: delayed mail|warning: could not send message for past|"
    r"delivery status notification \(delay\)|delivery delayed|delayed delivery|"
    r"delivery delay notification|message delivery delayed|mail delivery delayed)", re.I)
_WARNING_BODY = re.compile(
    r"this is a warning (?:message )?only|you do not need to resend your message|"
    r"no action is required on your part|delivery attempts will continue|"
    r"still being retried|will keep trying until (?:the )?message is|"
    r"message still undelivered after|has not yet been delivered to one or more|"
    r"hasn't been delivered yet|delivery (?:to the following recipients? )?(?:has been|is) delayed|"
    r"will retry for \d{1,4} more hours?|will be retried until it is|"
    r"you do not have to resend the message|the system will try to resend the message at", re.I)
# a final failure says so, whatever warning words it quotes
_FINAL_BODY = re.compile(
    r"permanent(?:ly)? (?:error|failure|fatal)|could not be delivered to one or more|"
    r"delivery to the following recipients? failed|message could not be delivered for|"
    r"giving up|gave up|has been returned|will not be retried|retry time not reached for any host"
    r" after a long failure|retry timeout exceeded|message expired|delivery has failed", re.I)

_CHALLENGE = re.compile(
    r"boxbe|guest list|spam arrest|protecting myself from (?:receiving )?junk|"
    r"complete the verification process|sender verification|verify (?:that )?you are (?:a )?human|"
    r"confirm (?:that )?you are (?:not a (?:spammer|robot)|a (?:real )?(?:person|human))|"
    r"prove (?:that )?you are (?:a )?human|add yourself to my (?:whitelist|approved senders|guest list)|"
    r"(?:whitelist|approval|verification) request|challenge[- ]response|mailblocks|choicemail|"
    r"click (?:on )?the link below to (?:verify|confirm|be added)|awaiting (?:your )?(?:verification|confirmation)",
    re.I)

# a substring test of the patterns' literal factors first: a re.I alternation costs ~40 ns
# a character even where nothing matches, and these run on every message
_WARNING_SUBJECT, _WARNING_BODY, _FINAL_BODY, _CHALLENGE = (
    guard(_WARNING_SUBJECT), guard(_WARNING_BODY), guard(_FINAL_BODY), guard(_CHALLENGE))

_HEAD = 6000  # characters of the human-readable text looked at


def is_warning(subject: str, text: str) -> bool:
    """The notice is a delay warning: the sending MTA still tries."""
    head = text[:_HEAD]
    if _FINAL_BODY.search(head):
        return False
    return bool(_WARNING_SUBJECT.search(subject[:300]) or _WARNING_BODY.search(head))


def is_challenge(subject: str, text: str) -> bool:
    """A challenge-response request: the sender is asked to prove it is a person."""
    return bool(_CHALLENGE.search(subject[:300]) or _CHALLENGE.search(text[:_HEAD]))


def mark_delayed(results: list[Result]) -> bool:
    """Results read from a warning's text are `delayed`. A recipient with a structured
    Action, or a 5xx status or reply (a final refusal), keeps it."""
    changed = False
    for r in results:
        if r.action:
            continue
        if r.status[:1] == "5" or r.reply_code[:1] == "5":
            continue
        r.action = "delayed"
        changed = True
    return changed
