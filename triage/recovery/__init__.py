"""Recovery of deleted and changed rows from SQLite message databases (issue 19).

:mod:`.scan` reads every WAL frame, the database file's copies of pages the WAL supersedes,
freelist pages, unreferenced pages and the free space of each target table's b-tree pages, and
returns records that are not live rows, each with where it was found and how much of it survived.
:mod:`.carve` finds records in free bytes; :mod:`.signature` says what a table's records look like.
Everything is read from bytes with :mod:`triage.sqlitefile`; no SQL is ever run on evidence.
"""
