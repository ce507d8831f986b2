"""Ground truth from real MTAs: Postfix and Exim relay to a scripted remote that fails in
known ways; their genuine DSNs go to a real bouncesink, whose results are judged against
the truth known by construction. `python bench/realmta/run.py` prints the table."""
