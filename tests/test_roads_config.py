"""[lmtp] and [[mailbox]]: the contract's keys, and one line per mistake."""

from __future__ import annotations

import pytest

from bouncesink.config import ConfigError, from_dict


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        from_dict(data)
    return e.value.problems


def test_the_contract_keys_load():
    cfg = from_dict({
        "lmtp": {"listen": "unix:/run/bouncesink/lmtp.sock"},
        "mailbox": [{"url": "imaps://bounces%40example.org@imap.example.org:993/INBOX",
                     "password_file": "/etc/bouncesink/imap.pass", "after": "move:Processed",
                     "interval": 60, "insecure_plaintext": False, "ca_file": ""},
                    {"url": "pop3s://b@pop.example.org", "password": "x", "after": "delete"}]})
    assert cfg.lmtp.listen == "unix:/run/bouncesink/lmtp.sock"
    assert [m.after for m in cfg.mailbox] == ["move:Processed", "delete"]
    assert cfg.mailbox[0].interval == 60.0


@pytest.mark.parametrize("data,expected", [
    ({"lmtp": {"listen": "unix:relative.sock"}}, "absolute path"),
    ({"lmtp": {"listen": "localhost"}}, "HOST:PORT"),
    ({"lmtp": {"socket_mode": "rw-rw-rw-"}}, "octal mode"),
    ({"mailbox": [{"url": "http://x@example.org"}]}, "imap://, imaps://, pop3:// or pop3s://"),
    ({"mailbox": [{"url": "imaps://imap.example.org"}]}, "USER@HOST"),
    ({"mailbox": [{"url": "imaps://u@h.example.org", "after": "archive"}]}, "move:FOLDER"),
    ({"mailbox": [{"url": "pop3s://u@h.example.org", "after": "move:Done"}]}, "POP3 has no"),
    ({"mailbox": [{"url": "imaps://u@h.example.org", "interval": 0}]}, "above 0"),
    ({"mailbox": [{"url": "imaps://u@h.example.org", "password": "a",
                   "password_file": "/p"}]}, "set one"),
    ({"mailbox": [{"password": "a"}]}, "url is required"),
    ({"mailbox": [{"url": "imaps://u@h.example.org", "pasword": "a"}]}, "did you mean"),
    ({"mailbox": {"url": "imaps://u@h.example.org"}}, "array of tables"),
    ({"server": {"workers": 2}, "lmtp": {"listen": "127.0.0.1:2424"}}, "workers = 1"),
    ({"server": {"workers": 2}, "mailbox": [{"url": "imaps://u@h.example.org"}]},
     "workers = 1"),
])
def test_mistakes_are_one_line_each(data, expected):
    found = problems(data)
    assert len(found) == 1 and expected in found[0], found
