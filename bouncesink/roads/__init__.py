"""Other ways in than SMTP: the pipe (`deliver`), mailboxes (IMAP, POP3) and files (`import`).

Each road ends in the same durable store call as SMTP ingest (`intake.store`, which is the
server's `message_row` + `add_rows`), and only after that commit does anything else happen:
the stored copy is classified by the server's `Classifier`, so results, decisions and
webhooks never depend on the road a message took. LMTP is SMTP's sibling and lives with it
in the server.
"""
