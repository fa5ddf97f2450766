"""``xyd backup`` and ``xyd restore``: one archive of a node's state, and its verified return.

The archive is a tar file: ``manifest.json`` first (what the node was, what each member's
SHA-256 is), then the database (PostgreSQL's custom-format dump, or SQLite's online copy,
gzipped), then the files the node needs beside it: the ledger's signing key and tag secret
(unless left out) and a rating model trained on the node.
"""
