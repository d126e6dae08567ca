"""Our own reader of the SQLite on-disk format, for evidence that must not be opened by SQLite.

Recovery needs what SQLite itself hides: every frame of a write-ahead log, freelist pages, free
blocks and unallocated space inside b-tree pages. This package reads those structures from the
bytes of a database file and its ``-wal`` without ever writing anything, following the public
file-format documentation, "Database File Format", https://www.sqlite.org/fileformat2.html
(section numbers in docstrings refer to it):

* :mod:`.record`: varints and the record format (section 2.1);
* :mod:`.btree`: b-tree pages, cells, overflow chains and table traversal (section 1.6);
* :mod:`.wal`: the write-ahead log, frames and checksums (section 4);
* :mod:`.image`: one database as SQLite would see it (file pages, WAL overlay, header, freelist
  (section 1.5), which page belongs to what);
* :mod:`.schema`: ``sqlite_master`` read from page 1 and each table's column declarations.
"""
