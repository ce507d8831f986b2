"""The SMTP front door, one room per concern (as uvicorn keeps protocols/, supervisors/ and
server.py apart).

    protocol.py    the SMTP session (aiosmtpd's engine) and its limits: connections in total
                   and per IP (ConnectionGate), line length, timeouts, errors, STARTTLS
    handler.py     BounceHandler: the RCPT and DATA replies (reusable by an LMTP session)
    ingest.py      Ingest: group commit of raw messages, 250 only after the commit; hands
                   refs to classification and sweeps what was left pending
    classifier.py  the classifier process (after the 250), parsing in an idle-priority child
                   (bouncesink/idleparse.py, shared with `reparse`)
    main.py        Server: start-up, serve loop, SIGHUP reload, graceful shutdown
    supervisor.py  serve_workers: N server processes on one port (SO_REUSEPORT)

Seams for other concerns: `Classifier.parser` (where parsing runs), `Classifier._campaign` /
`_record_options` (VERP, DNS; they run in the classifier process, from the stored envelope),
`Ingest.on_classified` (counters, in the server process), `Server.apply_config` (reload),
`Server.session_class` (the session: SinkSMTP, or an LMTP subclass).
"""

from bouncesink.envelope import campaign_of, is_ours, message_id_of
from bouncesink.server.classifier import Classifier, _Committed, classifier_main
from bouncesink.server.handler import BounceHandler
from bouncesink.server.ingest import Ingest
from bouncesink.server.main import Server
from bouncesink.server.protocol import ConnectionGate, SinkSMTP, tls_context
from bouncesink.server.supervisor import serve_workers

__all__ = ["BounceHandler", "Classifier", "_Committed", "ConnectionGate", "Ingest", "Server", "SinkSMTP",
           "campaign_of", "classifier_main", "is_ours", "message_id_of", "serve_workers",
           "tls_context"]
