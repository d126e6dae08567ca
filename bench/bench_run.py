"""Benchmark: ``triage run`` end to end on a large WhatsApp msgstore.db, against a naive export.

    python bench/bench_run.py [--rows 300000 1000000] [--keep DIR] [--no-report] [--repeat N]
                              [--phones 2]

For each size, builds a current-schema ``msgstore.db`` (the generator of bench_whatsapp_db.py:
500 chats, a group, 2 % media, 1 % revoked, 1 % system rows, deleted-row holes), a case file with
the owner, two case contacts (two of the chats' numbers) and a duty roster covering the whole
period, then measures in the same run:

* the naive export: one SQL join of ``message`` with ``chat`` and ``jid``, one JSON line per row
  written to a file (what a quick script would do, with none of the guarantees);
* ``triage run case.yaml --out DIR`` in a child process (wall time, and peak RSS from
  ``os.wait4``), run from a copy of the packages compiled to bytecode, as an installed copy is
  (``installed_copy.py``; before 2 December 2026 15:30 UTC it ran the checkout, compiled from
  source at every start where ``PYTHONDONTWRITEBYTECODE`` is set);

with ``--repeat N``, N rounds of the two alternating, the fastest of each taken (as
``bench_whatsapp_txt.py`` does: single runs on a shared machine are noisy, the naive export's
especially: 1.36-2.11 s at idle on one machine, a minute apart),

with ``--phones 2``, a case of two devices (``devices:`` in the case file): a work phone with the
generated database and a personal phone with a copy in which every one-to-one message is another
(a new key id, an hour later) and the group's are the same messages, held on both; the naive
export reads both databases (a case can hold several phones: per-device rules must scale with
the messages, not with each device's share of them),

and prints the ratio of the two times, the peak RSS and the output bytes per message (the whole
output directory, and ``case.sqlite`` alone). Targets (issue 11): ratio <= 10 at 300,000 rows,
peak RSS < 1 GiB at 1,000,000 rows. Not run in CI.

Measured on the shared 2-core machine (load 2.5-3.4), with the report:
300,000 rows: naive 1.7-2.3 s; run 68.1 s (55.7 s without deleted-row recovery); ratio 30-33;
peak RSS 377 MiB (248); 552 bytes/message in case.sqlite, 1827 in the whole output.
1,000,000 rows: naive 5.2-7.9 s; run 262.7 s (218.1 s); ratio 28-51; peak RSS 1055 MiB
(640 MiB without recovery); 554 / 1830 bytes/message. Before issue 11 (300k, load 6.8): 168 s,
ratio 36, 926 / 2201 bytes/message.

After the speed-run changes (recovery holds live rows compactly; a streaming XLSX writer, since
replaced by xlsxwriter again, which costs about 15 s CPU more at 300k), with the
features landed since (devices, workbook, filtered views), load 6-10 on the 2 cores, so wall times
say little and the CPU-time ratio is the figure to compare: 300,000 rows: naive CPU 1.68 s,
run CPU 120.4 s (wall 422 s), CPU-time ratio 71.5; peak RSS 335 MiB; 637 bytes/message in
case.sqlite, 2200 in the whole output. 1,000,000 rows with recovery: peak RSS 875 MiB (was 1055),
CPU 326 s. Same-time A/B at 300k (both runs together, load 6-13): CPU 118.5 s and 337 MiB with
the speed-run changes, 145.4 s and 423 MiB with them reverted; every output byte-identical but
the manifest's times and triage.xlsx's zip (its sheet data identical). Targets: RSS met, ratio
not met.

Report side (run-report, 2026-12-02), ``triage report`` rebuilding the 300k case's pages and
exports, the code before and after run side by side (so under the same load, 7-9 on 2 cores):
before 76.0 s CPU (332 s wall), after 53.9 s CPU (187 s wall), every output byte-identical
(``diff -r``). Where it went: message bubbles written straight from the stored message with the
pieces messages share escaped once (was a dict per message, then a row dict, then HTML); each
conversation's title kept per key (the search index asked for it per message, formatting phone
numbers each time: a sixth of the report); one read of the messages feeding both messages.csv
and the workbook's messages sheet; and, on a machine with a second core, the exports written by a
second process while the pages render (report/export_job.py). What is left of the report: the
workbook's 100,000 rows in xlsxwriter (about 13 s CPU of cell XML, its own code), messages.csv
(about 6 s), the conversation pages (about 15 s: SQL and decoding 4.5 s, bubbles 4 s). The whole
run then, with the ingest side as it was (03:13, load 7.9-8.8): naive 3.86 s wall / 1.51 s CPU;
run 209.2 s wall / 94.4 s CPU (was 127.7 s / 129.8 s on the idle machine at 02:25); ratio 54.2
wall, 62.5 CPU (was 77.3 / 78.8); peak RSS 349 MiB (the exports' process 89 MiB at most, the
two together 377 MiB, sampled from /proc); every output but the manifest's times and the case
file's paths byte-identical to the 02:25 run. Target not met. 1,000,000 rows (03:23, load
6.9-8.1): naive 10.53 s wall / 4.98 s CPU, run 598.9 s / 282.0 s CPU (was 325.7 s), ratio 56.9 /
56.7; peak RSS 870 MiB (met); the exports' process 276 MiB at most, both together 721 MiB at most
while it ran (the peak is the pages' process alone, later).

The exports' process (exports, 2026-12-02), ``write_exports`` alone on the finished 300k case
(/tmp/base's case.sqlite copied), CPU time, runs alternated (06:08-06:11, load 5-8): before
(7fc2110) 18.0-19.0 s; main with the new workbook rule only (c719f37) 8.7-9.1 s; after
5.5 s. messages.csv alone 5.3 -> 2.1-2.3 s (SQL rows 0.95 s, labels 0.3 s, lines 0.56 s),
findings.json 0.45 -> 0.2 s. Every export byte-identical to main's but triage.xlsx, whose other
sheets are identical and whose messages sheet now lists every message with a case contact and
the others up to 20,000 rows (was the first 100,000): 21,119 rows here, each equal to its row in
the old file. What is left is xlsxwriter's own cell XML, about 2.2 s for those 21,119 rows of
22 cells (its floor), and its zip at close, 0.4 s. The whole run at 6ac7a56 with every
helper's landings so far (06:17, load 3.1-3.6): naive 1.17 s; run 30.8 s wall / 33.1 s CPU;
ratio 26.4 wall, 28.4 CPU; peak RSS 336 MiB. Target not met.

Ingest and analysers (run-store, 2026-12-02): idle machine (load 1.2-1.4) before: naive CPU
1.65 s, run CPU 129.8 s, CPU-time ratio 78.8. Same-time A/B at 300k (load 5-9; main then vs
this branch): run CPU 131.1 s vs 120.5 s (ratio 76.1 vs 70.7), peak RSS 393 vs 419 MiB; the
run without the report 39.5 s vs 34.4 s CPU; the analysers alone 13.1 s vs 9.8 s CPU. Every
output byte-identical, case.sqlite included, but the manifest's times. 637 bytes/message in
case.sqlite, 2444 in the whole output. Both sides together (03:40, load 4.5-7.3; the report side
as of 6aa680e): naive 3.45 s wall / 1.52 s CPU; run 167.9 s wall / 77.8 s CPU; ratio 48.6 wall,
51.2 CPU; peak RSS 383 MiB. Main at 15e1844 on the machine near idle (04:01, load 0.2-1.0):
naive 1.57 s wall / 1.57 s CPU; run 56.0 s wall / 75.9 s CPU (the exports' process runs beside
the pages); ratio 35.7 wall, 48.5 CPU; peak RSS 384 MiB; 637 / 2444 bytes/message. Target not met.

The analysers stage (analyse, 2026-12-02), timed alone on a copy of the 300k case.sqlite with
its findings and labels removed, 7fc2110 and this branch run alternately (06:14, load 5.4-6.3):
7.31-7.42 s CPU before, 3.51-3.60 s after; every finding, finding ref and label identical
(``sqlite3 .dump`` of the findings, finding_refs, message_labels and analysers_run tables), and
the demo's outputs too. Per analyser, before -> after: gaps 1.85 -> 0.66 s (the id-gap scan in
SQL: messages placed per id space in a temporary table, holes' neighbours, order modes and
order-key steps found by SQLite, only the rows around gaps read back), duty 1.57 -> 0.70 s (the
two labels written one after the other in id order, which is an append, and the status by a
CASE tree of the roster's segments instead of a subquery per message; a batch bound that made
every batch read to the end of the table), lexicon 1.63 -> 0.42 s (one prefilter automaton over
each batch of folded texts: the terms and text every match of each regular expression holds),
chronology 0.37 -> 0.08 s and media 0.16 -> 0.00 s (the duty labels of their few messages
instead of all 300,000), contacts 1.49 -> 1.41 s (correspondent counts: only the counted
parties' rows named). Target (2.5 s) not met: the correspondent counts (1.3 s of SQL: every
message's parties named and grouped per message and key) are what is left.

The analysers stage through a memory map (paranalyse, 2026-12-02): ``Store.mapped`` around the
analysers loop (``PRAGMA mmap_size``, at most 256 MiB, dropped before the report). The stage
alone on a copy of the 300k store as the reading stage left it, main c317bca and this branch
alternately three times each (13:12, load 6.0-6.3): CPU 4.10 / 5.53 / 4.54 s (system 0.97-1.18)
on main, 3.84 / 4.15 / 4.93 s (system 0.23-0.26) here; wall 7.9 / 11.6 / 9.8 s vs 4.3 / 9.7 /
8.5 s; the same SQLite work (48.4 M virtual-machine steps in contacts, 35.3 M in duty, 27.6 M in
gaps, counted by a progress handler) and the same store, ``cmp``-identical. The whole run at
300k (load 6.2-7.3): main 80.4 s wall / 34.5 s CPU, this branch 90.5 s / 34.7 s (wall times at
that load say little); peak RSS 368 / 369 MiB; every output byte-identical but the manifest's
run times (``diff -r``), the demo's too. 1,000,000 rows with a map of the whole file (1 GiB
limit; 13:04-13:11, load 7-8.4): the analysers' process held 848 MiB in that stage (263 MiB
before it: the mapped pages of the 640 MB store are resident), under the run's peak, 954 MiB
in the report's pages, sampled from /proc with the children; hence the 256 MiB bound. With it
(main e37f8f2, 13:52-13:56, load 2.6-4.1): the analysers' process held 533 MiB at most in the
stage; the run 124.0 s wall / 86.3 s CPU, peak RSS 916 MiB (925 MiB for the whole process tree,
the bench's own process included, late in the pages). Not a second process: the correspondent
counts (95 % of contacts' time under cProfile) are independent of every other analyser, but
their finding is among contacts' findings, which are written before duty's labels (the store's
bytes follow the order of writes), and what comes before them in the stage (contacts' labels)
takes 0.05 s: a child would have nothing of the parent's to run beside.

Deleted-row recovery (recover, 2026-12-02), the scan alone (``Scanner`` on the file's bytes, CPU,
load 5.4-6.0), the code before and after run one after the other: 300,000 rows 2.42 -> 0.83 s,
1,000,000 rows 7.96 -> 2.72 s; in the reading stage of ``run_case`` (load 4-7) the recovery took
2.49 s CPU before and 0.96 s after in-process. From 16 MiB of database it now runs in a second
process started when the parse of that database starts (triage/recovery/job.py): at 300k the
second process used 0.97 s CPU (interpreter start included) and the parser waited 0.00 s for its
result, so recovery is off the critical path. Every recovery result identical (207 databases:
the churned matrix, non-ASCII churns, two 20,000-row tables, the fixtures and the 300k case) and
case.sqlite byte-identical at 300k. Whole runs at 300k (load 6-7, alternately): 43.9 / 44.7 s CPU
before, 42.7 / 44.9 s after (within the noise at that load), peak RSS 351-367 MiB both.
1,000,000 rows, main with this work reverted vs main (06:25-06:29, load 2.0-2.8): 105.9 s wall /
102.4 s CPU vs 81.3 s / 96.6 s; peak RSS 925 vs 924 MiB (the recovery's process alone 192 MiB at
most, 3.0 s CPU, while the parser reads the live rows).

Reading sources without deleted-row recovery (ingest, 2026-12-02): the stage's CPU time in one
process (``run_case`` with ``report=False``, recovery patched out as ``NO_RECOVERY`` does), 300k.
Idle machine (05:38, load 0-0.8), main then vs the first landing: 11.1-11.2 s vs 8.2-8.3 s.
Same-time A/B, 7fc2110 vs all of it, alternately three times each (06:09, load 5.6-7.9): 13.1-13.5
s vs 7.3-7.55 s (-44 %); peak RSS of the process 199 vs 151 MiB. Where it went: the cyclic
collector held off while a source is stored (it ran 25 full passes over the process and freed
nothing: about 2.2 s); bools bound as ints (the sqlite3 module adapts a bool before binding it:
the messages insert 1.4 -> 0.93 s); WhatsApp side tables merged with the messages in ``_id``
order instead of joined (the query 1.03 -> 0.46 s), the senders of each chat read by a table scan
rather than through ``message_sort_id_index`` (0.37 -> 0.03 s), rows read by position, the
addressing rule's answer kept per chat, direction and counterpart, a positional Message
constructor; copy keys digested only once a second device is stored. Again at 06:23 (load
2.4-3.1): 11.9-12.4 s vs 6.8-7.0 s. What is left (about 6.3 s on an idle machine, scaled):
the parser 2.3 s (the SQL 0.46 s of it), the row encoder 1.9 s (orjson of ``extra`` with sorted
keys, the duplicate-key digests, the time texts), the inserts 1.2 s, the indexes 0.45 s. Every
output byte-identical to main's (``diff -r`` of the whole output directory with the report: only
the manifest's run times differ; ``case.sqlite`` ``cmp``-identical). The stage's target (<= 4 s)
is not met.

Report pages (pages, 2026-12-02): ``Report.write()`` alone on a copy of the 300k case's
case.sqlite, main 7fc2110 and this branch run one after the other, twice each (load 4.4-7.7):
before 16.1-17.0 s CPU, after 9.5-9.6 s CPU (at load 5-6: 15.8-16.0 vs 8.1-8.6 s; at 06:30, load
2.2-2.9, rebased on main 658625a: 13.6-13.9 vs 6.3-6.5 s, wall 14.6-15.0 vs 6.6-6.8 s); peak RSS of
the process 300 -> 270-280 MiB. Pages written 402.8 -> 270.7 MB (1,344 -> 903 bytes a message;
conversations/ 336 -> 220 MB, 1,121 -> 734 bytes a message; groups.html 35.4 -> 21.5 MB; the
search index unchanged, 24.1 MB). Where it went: the pages read messages as PageMessage rows
(store/page_rows.py: the columns a page shows, shared conversation, party, recipient-list and
file objects, the time as the stored text worded per minute) instead of full Messages; each
bubble one format string with every shared piece cached; evidence escaped by ``str.replace``
(as markupsafe does, without a Markup per string); the bidi check of each page's chat skipped
for ASCII text (it ran a regex over every page, 1 s); the conversation summaries in one table
scan (0.5 -> 0.16 s); the sorted read of every message with a 16 MiB cache, so SQLite's sorter
no longer spills to temporary files (0.4 s of system time, 28 MiB more). Output: byte-identical
but for the intended layout change (a page's legend, S1/A1 under each message; README "What the
investigator sees"). What is left (at load 5, CPU): reading and sorting the messages in SQLite
about 2 s, their decoding 0.5 s, bubbles 1.5 s, the search index 1.3 s, timelines 0.7 s, the
groups page 0.7 s (it reads its 29,700 messages again), the rest jinja2 and file writes.
Target (<= 5 s CPU) not met.

The whole run after this session's work (main at 3f38ebc, 2 December 2026 06:45-06:57, load
0.3-1.1): 300,000 rows: naive 1.24-1.39 s wall; run 18.9-21.1 s wall / 25.0-27.6 s CPU (was
42.4 s / 57.8 s at 05:01 on the same machine, idle); ratio 14.7-17.0 wall, 20.0-23.2 CPU (was
37.0 / 50.3); peak RSS 347 MiB; 1,977 bytes/message in the whole output (was 2,444), 638 in
case.sqlite. Per stage in one process (06:45): reading sources 6.7 s, analysers 3.7 s, report
7.0 s (the exports' process beside it). 1,000,000 rows with recovery (06:46, load 1.1): naive
3.83 s; run 68.3 s wall / 83.6 s CPU (was 162.6 s / 195.0 s); ratio 17.8 wall, 21.8 CPU; peak
RSS 862 MiB. Target (ratio <= 10 at 300k) not met; RSS target met.
Last, on main at 4f00ca3 (the correspondent counts and the groups page since, 07:13-07:18, load
0.9-1.5): 300,000 rows: naive 1.17-1.18 s; run 18.0-18.5 s wall / 24.3-24.7 s CPU; ratio 15.4-15.7
wall, 21.4-21.8 CPU; peak RSS 369 MiB. 1,000,000 rows: naive 4.23 s; run 68.2 s / 82.8 s CPU;
ratio 16.1 / 20.3; peak RSS 937 MiB (the groups page's rows now kept through the conversation
pass: about 75 MiB more at this size, still under 1 GiB).

The exports' process again (exports, 2026-12-02, second session): ``write_exports`` alone on a
copy of the 300k case's case.sqlite, main c317bca and this work alternately, three times each
(12:52, load 5.5-6.3): 5.9-6.9 s CPU before, 3.7-4.1 s after the first landing; then (13:19,
load 4.2-4.4) main c1ee04b 4.06-4.15 s, after the second 3.64-3.88 s. The workbook's rows of
plain text, whole numbers and dates are written as the XML xlsxwriter writes for them, without
its calls per cell (report/workbook.py ``_Sheet._direct``; any other row still goes through
xlsxwriter), repeated texts' cell XML kept, a hundred rows a write: the messages sheet's 21,119
rows 3.3 -> 0.3 s. The process's start-up imports no longer include the pages' writer and the
analysers (``import triage.report.export_job`` 0.34-0.45 -> 0.31-0.35 s CPU). Every export
byte-identical to main's, triage.xlsx included (``cmp``); the whole 300k output directory
(``diff -r``) and the demo's identical but for the manifest's times and the case file's paths.
Whole runs at 300k alternately (13:21-13:26, load 4.0-6.3, too loaded for wall times to say
much): main 74.7 / 86.0 s wall, 37.7 / 35.4 s CPU; this work 60.6 / 93.4 s wall, 33.6 / 38.1 s
CPU; ratio 13.6-38.0 wall either way. What is left in the exports (CPU, load 4-5): the rows from
SQL 1.0 s (the recipients' subquery 0.3 of it), the messages.csv lines 0.75 s, the duty labels
0.35 s, the sheet 0.3 s, the workbook's close 0.45 s (xlsxwriter's zip, whose level would
change the file's bytes), findings.json 0.25 s, start-up 0.35 s; the pages' process, beside
it, used 11.2 s CPU in the same report (load 6.5) against the exports' 5.0 s.

Report pages, second pass (pages, 2026-12-02 afternoon). CPU times at 300k swing by 20 % at the
load of that hour (5.9-7.5 on the 2 cores), so the pieces were compared by instructions executed
(valgrind's cachegrind, deterministic to 0.2 %) on a 20,000-row bench case, main c317bca vs this
branch: a page's bubbles, one loop with the report's tables as locals and a locator's shape
checked in the legend and escaped once per run of messages sharing it, 30.9k -> 23.7k
instructions a message; the search index (its rows sorted as tuples without a key, columns by
zip) 21.8k -> 20.1k; the whole pages process 6.57G -> 6.36G. ``Report.write()`` alone at 300k,
main and this branch alternately (13:13-13:16, load 5.9-7.5): 10.28 / 10.65 / 10.78 s CPU vs
9.65 / 11.09 / 10.61 s; again, c317bca vs df29468, six pairs in both orders (13:34-13:44, load
3.6-6.4): 9.12-10.78 s vs 9.09-11.13 s. The saving (about 0.4 s of 9) is inside that noise and
was not shown in CPU time. Pages byte-identical (``diff -r``, 300k and demo). The whole run on
main df29468 (13:35, load 4.6): naive 2.74 s wall / 1.69 s CPU; run 52.3 s wall / 33.3 s CPU;
ratio 19.1 wall, 19.7 CPU; peak RSS 354 MiB. Tried and not kept: the exports' process writing
the last 40 % of the conversations' pages after the exports (byte-identical, but it cost that
process 3.6 s CPU to save the pages' process about 0.7 s: a second Report, its labels, the
subset's sorted read and jinja2 there).

Reading a msgstore.db (ingestcpu, 2026-12-02): the parser and the store's row encoding of the
300k database without the inserts, c317bca and this work alternately four times each (13:25, load
4.5-5.3): 6.48-7.46 s CPU before, 5.02-6.60 s after. Instructions counted by cachegrind on a
30,000-row database (the same work, not disturbed by the load): parser 2.52 -> 2.12 G, row
encoding 1.04 -> 0.83 G, inserts and indexes 1.39 G unchanged. Where it went: a bad row contained
by ``try`` instead of a guard entered and left per row; a row's side-table checks skipped when it
has none; provenance built as the tuple it is; the positional Message constructor storing the
fields itself (one call per record, not two); duplicate and copy keys remembered by Python's
hash and checked against the stored key when a hash is met again (a 128-bit digest was a tenth of
the encoding); extra written without orjson's option for non-text keys when it has none; a file's
id, a source's device and the seconds' texts looked up once. case.sqlite ``cmp``-identical at 300k
and for the demo, every other output identical but the manifest's times. By the same count the
whole reading stage (inserts and indexes with it) went 4.95 -> 4.34 G. The whole run at 300k, main
before (df29468) and after (28962a2) alternately twice (13:39-13:43, load 4.6-6.0): run CPU
30.5 / 35.4 s before, 31.9 / 34.1 s after, ratio 28.0 / 13.9 vs 20.3 / 21.2 wall: the load's
swing is larger than the stage's gain (about 1.5 s of CPU at 300k). Left: the inserts and indexes
(SQLite's own work, 1.4 G of the 4.3 G; about 9 % of the stage's instructions are the mutexes
SQLite takes per call in its serialized mode and the interpreter lock given up per step, which
the sqlite3 module offers no way to avoid), the SQL scan, and the Message objects themselves.

The parse in a second process (triage/parse_worker.py, from 8 MiB of source), measured on the
machine near idle (14:10-14:14, load 0.9-1.3), main (0b7d637) and the branch alternately: run
26.3 / 29.3 / 27.5 s wall (32.4-35.9 s CPU) before, 25.9 / 25.4 / 23.9 s wall (35.1-37.9 s CPU)
after: about 2.5 s of wall time for 2-3 s more CPU (records turned into columns and pickled).
The whole run at 314946b, all of the day's work (14:26-14:27, load 1.0-1.2): naive 1.39 / 2.02 s;
run 24.0 / 27.4 s wall, 33.7 / 38.6 s CPU; ratio 17.3 / 13.6 wall; peak RSS 358-359 MiB; 1,977
bytes/message output, 638 in case.sqlite. On this machine the naive export alone varies by 45 %
between runs a minute apart (1.36-2.11 s), so a single ratio says little. Target not met.

Second session of 2 December 2026 (15:07-18:07 UTC, a faster machine; from here on ``triage`` runs
from a compiled copy and ``--repeat 3`` takes the fastest of three alternating rounds). Start,
main b36b74f (15:12, load 0.9): naive 1.16 s; run 16.15 s wall / 23.9 s CPU; ratio 13.9; peak
RSS 360 MiB. In the main process then: detection 0.27 s, reading 4.6 s (the parse worker beside
it), analysers 3.0 s with the second core idle, report 6.6-7.2 s with the exports' process
beside it (3.5 s CPU). What was done: the analysers' gaps, lexicon and groups in a second
process with the store in WAL mode for the stage (triage/analysers/stage.py), the correspondent
counts per conversation and sender; a share of the conversation pages in a forked process
(triage/report/conversation_share.py), each reading only its conversations; batches prepared
for the store in the parse worker (triage/store/message_cells.py); the cyclic collector held
off through the report (triage/collector.py); scipy imported only where pictures are hashed.
End, main 1a8b60c (17:02-17:05, the machine otherwise idle): 300,000 rows: naive 1.49 / 1.21 /
1.21 s; run 14.10 / 14.45 / 13.55 s wall, 23.6 s CPU; **ratio 11.2** (fastest of each; an
earlier round at 17:00 gave 12.84 s against 1.18 s, 10.9); peak RSS 297 MiB; 1,977
bytes/message, 638 in case.sqlite. In the main process (17:00): detection 0.18 s, reading 4.7 s
wall / 3.2 s CPU (it waits for the parse worker, now the stage's critical path), analysers
1.6 s / 1.4 s, report 6.0-6.2 s / 4.4-4.6 s (three processes on two cores). 1,000,000 rows
(17:04): naive 3.99 s; run 44.5 s wall / 77.9 s CPU (was 86.9 / 118.9 s); ratio 11.2; **peak RSS
771 MiB** (was 918). Two runs into two folders: every output identical but the manifest's times
(case.sqlite ``cmp``-identical). Target (<= 10 at 300k) not met: the run's CPU time (23.6 s) on
two cores puts its floor near 11.8 s, so what is left is CPU, not balance.

Session of 4 December 2026 (01:00-04:00 UTC, a new machine on which the same code took about a
third more CPU: start, main 15c45c4, 01:06-01:08, load 1-2: naive 1.23 / 1.50 s; run 16.70 /
16.29 s wall, 29.9 / 28.5 s CPU; ratio 13.5 with ``--repeat 3``, 10.8 with ``--repeat 2``; peak
RSS 286 MiB). Per stage in the main process then (idle): detection 0.28 s, reading 7.0 s (the
parse worker the critical path: the main process waited for it about a third of the time),
analysers 2.0-2.1 s, report 6.4-6.9 s. What was done, each by instructions counted with
cachegrind (load-independent) and outputs compared byte for byte: the parse worker 12 % fewer
instructions (a minute's datetime cached with its milliseconds as a timedelta; the message table
read 256 rows at a time with the sqlite3 module's own UTF-8 decoding, a lenient re-read only
from a bad run; the addressing rule's result kept per chat; extra encoded by one orjson pass per
batch); the store's ingest (recipients a hundred rows a statement), its indexes built with a
16 MiB cache, recovery's pass over the live rows without their keys until a found record is
compared (-28 %); the pages' read 7 columns instead of 18 (what a message shares with others as
one JSON text decoded once per combination) and its labels from a compact table; the exports'
repeating columns as one text, findings.json's provenance from the messages.csv pass, the
workbook deflated at zlib level 1; the conversation pages handed out to the two processes as
they are written (report/conversation_share.py); a source hashed once on intake, not again when
read; "is the store large" asked with a LIMIT. End, main ec38639, the machine otherwise idle
(its own load 1.8-2.1 on 2 cores), four runs within fifteen minutes: 02:44 (``--repeat 3``):
naive 1.14 s, run 12.02 s wall / 21.2 s CPU, **ratio 10.5**; 02:48 (``--repeat 5``): naive 1.42
s, run 12.99 s / 22.7 s, **ratio 9.1**; 02:51 (``--repeat 5``): naive 1.38 s, run 12.52 s / 21.8
s, **ratio 9.1**; 02:58 (``--repeat 5``): naive 1.20 s, run 12.08 s / 21.1 s, **ratio 10.1**: at
the target within the noise (the naive export's rounds 1.14-2.15 s, ours 12.0-15.8 s). Peak RSS 300 MiB; 1,979 bytes/message output, 638 in case.sqlite. 1,000,000
rows (02:50): naive 5.09 s; run 46.25 s wall / 81.0 s CPU; ratio 9.1; **peak RSS 606 MiB** (was
771). The run's CPU fell 28.5-29.9 -> 21.2-22.7 s. Tried and not kept: the recovery process at a
lower priority (os.nice; no gain seen at idle), the main process taking the conversations still
waiting once it has written its other pages (no gain seen).

Session of 4 December 2026, 03:19-06:18 UTC, the same machine. Its speed drifts: at 03:20 the
session-start code (f56a333) took 15.47 s wall / 26.6 s CPU (ratio 11.1), at 05:01 the same
code 11.38 s / 19.9 s (ratio 9.5), so only runs close together compare. What was done, each by
cachegrind instruction counts with outputs compared byte for byte: the contacts analyser ranks
correspondents by a plain count and counts only those shown in full (-34 %, then a shared key
counted once); the gaps analyser tells a repeated id by the placing insert failing and keys id
spaces by file id (-35 %); duty's overall counts come from the roster's segments over the time
index (-14 %); labels are inserted a hundred rows a statement; the analysing stage in all
-19 % (25.97 -> 21.09 G at 300k, its two processes within 0.2 G of each other). The parse
worker -4.3 % (a conversation and a sender cross the pipe as objects the pickle memo writes
once, a UTC time as its datetime's 10-byte state, device tagging one loop a batch). The pages:
live rows' extra tested by GLOB, the conversation summaries from the conversation index, held
and linked messages by set intersection, what messages share as one tuple, the duty and night
labels read as one column (report setup 1.77 -> 1.32 G at 100k; the exports reuse it). Start-up:
quick_check through a memory map, parsers imported only when detection chose them (-4.9 % to
'Reading sources'); the search index ordered by three stable int sorts (-28 %); the page child's
search rows pickled without a memo; objects frozen at exit (gc.freeze), so the interpreter's
final collections no longer run (0.3-0.5 s -> 0.04-0.19 s from the last line to exit). Outputs
of a 300k run identical to the session start's (cmp case.sqlite; diff -r, the manifest's times
aside). Paired A/B at 300k (05:05-05:09, farm-bench, 6 pairs, load 2.1 from the runs
themselves): this session's main against its start, median ratio 0.94 wall, 0.93 CPU (13.33 s /
23.4 s against 14.21 s / 25.2 s). End, main 9ca15e8, nothing else running, ``--repeat 5``
each: 04:57 naive 1.22 s, run 10.77 s / 19.4 s, **ratio 8.8**; 04:59 1.30 s, 11.90 s / 21.6 s,
**9.2**; 05:00 1.25 s, 9.98 s / 18.2 s, **8.0**; 05:02 1.21 s, 10.88 s / 19.6 s, **9.0**; 05:11
1.23 s, 9.98 s / 18.0 s, **8.1**; 05:12 1.28 s, 13.95 s / 25.0 s, **10.9** (the same code's CPU
up by 38 % a minute later: the machine, not the run). Peak RSS 302-303 MiB; 1,979 bytes/message
output, 638 in case.sqlite. 1,000,000 rows (05:09): naive 4.71 s; run 43.77 s / 77.0 s; ratio
9.3; **peak RSS 604 MiB**. Tried and not kept (helpers' notes): other forms of the pages'
recipients subquery (a temp table, a dict, group_concat: each about as dear), mmap for the page
reads (RSS at 1M), the search index as columns, sending constant columns once per batch,
batching the gap analyser's single-row reads.

4 December 2026, evening (a new machine, up 2-6 minutes, nothing else running; load 1.6-2.0 is
the runs' own two processes), main 96f3c26, ``--repeat 5`` each: 18:26 naive 1.16 s, run
9.92 s / 17.9 s, **ratio 8.6**; 18:28 1.18 s, 9.91 s / 18.0 s, **8.4**; 18:29 1.19 s, 9.92 s /
17.9 s, **8.3** (every round of ours 9.9-10.9 s, of the naive export 1.16-1.28 s). Peak RSS
302-303 MiB; 1,979 bytes/message output, 638 in case.sqlite. 1,000,000 rows (18:31, load
0.9-1.5): naive 4.06 s; run 35.07 s / 63.0 s; ratio 8.6; **peak RSS 608 MiB**; 1,975 / 639
bytes/message.

Two phones (``--phones 2``, added 4 December 2026 evening; 300,000 rows each, 569,701 messages
stored, the group's 29,970 held on both counted once), 18:50-18:54, load 1.2-1.8: before
a8780ee (ed58c9a) naive 2.50 s, run 39.68 s / 58.2 s CPU, ratio 15.9, **peak RSS 1,523 MiB**
(the devices analyser decoded every message naming the owner, that is every message, to find
those between his own numbers); after (main) naive 2.67 s, run 23.19 s / 41.4 s, ratio 8.7, peak
RSS 461 MiB; 2,013 / 644 bytes/message. One phone at the same time (``--repeat 3``): naive
1.21 s, run 10.58 s / 19.1 s, ratio 8.7. Until then the child ran from the folder the benchmark
was started in, and ``python -c`` puts that folder first on sys.path: started from a checkout,
it timed the checkout's sources (compiled at each start under ``PYTHONDONTWRITEBYTECODE``), not
the compiled copy; it now runs in the copy's folder.

End of that session, main b01cedb (groups' pages capped per member, calls and copies read once),
nothing else running (load 1.0-2.1, the runs' own): 19:19 ``--repeat 5`` naive 1.19 s, run
10.73 s / 19.5 s, **ratio 9.0**; 19:20 1.19 s, 10.38 s / 18.8 s, **8.7**; peak RSS 302 MiB;
1,909 bytes/message output (572 MB: the 30,000-message group's page lists 200 rows a member),
638 in case.sqlite. Two phones (19:21): 2.39 s, 24.80 s / 43.8 s, 10.4 (26.59 s in the other
round), 458 MiB. 1,000,000 rows (19:22): naive 3.84 s, run 34.83 s / 60.8 s, ratio 9.1, **peak
RSS 538 MiB** (608 before the group pages kept fewer rows), 1,904 / 639 bytes/message. The same
code's run took 9.9 s at 18:26 and 10.4-12.9 s here: the machine slowed through the hour.
Then main fab7246 (recipient lists stored once), 19:52 ``--repeat 5`` naive 1.17 s, run 9.43 s /
16.8 s, **ratio 8.1**; 19:52 1.15 s, 10.18 s / 17.9 s, **8.8**; peak RSS 300 MiB; 1,894 bytes/
message output, 623 in case.sqlite. 1,000,000 rows (19:54, load 2.0): naive 4.14 s, run 35.69 s
/ 62.8 s, ratio 8.6, **peak RSS 534 MiB**, 1,888 / 624 bytes/message. Last, main 0cec417 (single
parties' recipient messages counted by list), load 1.2-2.0: 20:13 naive 1.18 s, run 8.98 s /
15.9 s, **ratio 7.6**; 20:14 1.18 s, 9.35 s / 16.6 s, **7.9**; 1,000,000 rows (20:15) naive
3.86 s, run 32.10 s / 55.8 s, ratio 8.3, **peak RSS 541 MiB**; two phones (20:16) 2.30 s,
20.85 s / 37.2 s, ratio 9.1, 461 MiB, 1,954 / 629 bytes/message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from installed_copy import compiled_copy  # noqa: E402 - bench/ itself, when run as a module

NAIVE_SQL = """
SELECT m._id, j.raw_string, m.from_me, m.timestamp, m.text_data, m.message_type
FROM message m JOIN chat c ON c._id = m.chat_row_id JOIN jid j ON j._id = c.jid_row_id
ORDER BY m._id
"""


def _bench_db_module():  # noqa: ANN202 - a module object
    spec = importlib.util.spec_from_file_location(
        "bench_whatsapp_db", ROOT / "bench" / "bench_whatsapp_db.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def write_case(folder: Path, rows: int, phones: int = 1) -> Path:
    """Owner, two case contacts (chats 7 and 42 of the generator) and a roster: day shifts
    07:00-17:00 every day but the weekend, over the whole span of the generated messages. With
    two phones, the case file's ``devices:`` names a work phone (``msgstore.db``) and a personal
    one (``personal/msgstore.db``)."""
    start = dt.datetime(2024, 3, 12)  # the generator's first timestamp, 1710230400000 ms
    days = rows // 86_400 + 2
    lines = ["start,end,type"]
    for n in range(days):
        day = start + dt.timedelta(days=n)
        if day.weekday() < 5:
            lines.append(f"{day:%Y-%m-%d} 07:00,{day:%Y-%m-%d} 17:00,duty")
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", "utf-8")
    case = folder / "case.yaml"
    case.write_text(
        "case:\n  reference: BENCH/RUN\n  timezone: Europe/London\n  region: GB\n"
        'subject:\n  name: PC Bench\n  identifiers:\n    - phone: "+44 7700 999999"\n'
        "contacts:\n"
        "  - name: Contact A\n    role: victim\n    identifiers:\n"
        '      - phone: "+44 7700 900007"\n'
        "  - name: Contact B\n    role: witness\n    identifiers:\n"
        '      - phone: "+44 7700 900042"\n'
        "roster:\n  csv: roster.csv\n" + (_DEVICES if phones == 2 else _SOURCES),
        "utf-8",
    )
    return case


_SOURCES = "sources:\n  - path: msgstore.db\n    label: msgstore.db\n"
_DEVICES = (
    "devices:\n"
    "  - label: Work phone\n    kind: work\n    sources:\n"
    "      - path: msgstore.db\n        label: work msgstore.db\n"
    "  - label: Personal phone\n    kind: personal\n    sources:\n"
    "      - path: personal/msgstore.db\n        label: personal msgstore.db\n"
)


def build_second_phone(first: Path, second: Path, chats: int = 500) -> None:
    """The personal phone's database from the work phone's: the same group (the generator's
    last chat) with the same messages, held on both phones; every one-to-one message another
    (a new key id, an hour later), as if he wrote to the same people from both phones."""
    second.parent.mkdir(parents=True, exist_ok=True)
    second.write_bytes(first.read_bytes())
    conn = sqlite3.connect(second)
    conn.execute(
        "UPDATE message SET key_id = key_id || 'P', timestamp = timestamp + 3600000,"
        " received_timestamp = received_timestamp + 3600000 WHERE chat_row_id <> ?",
        (chats + 1,),
    )
    conn.commit()
    conn.close()


def naive_export(db: Path, out: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n = 0
    with out.open("w", encoding="utf-8") as handle:
        for rowid, jid, from_me, ts, text, mtype in conn.execute(NAIVE_SQL):
            handle.write(
                json.dumps(
                    {
                        "id": rowid,
                        "chat": jid,
                        "from_me": bool(from_me),
                        "timestamp": ts,
                        "text": text,
                        "type": mtype,
                    }
                )
                + "\n"
            )
            n += 1
    conn.close()
    return n


# Deleted-row recovery (issue 19) reads every page of msgstore.db again in Python; this turns it
# off in the child so its share of the run can be told apart from the rest.
NO_RECOVERY = (
    "import triage.parsers.whatsapp_recovered as r; r.recover_evidence = lambda *a, **k: None; "
    "r.PendingRecovery.__init__ = lambda self, *a, **k: None; "
    "r.PendingRecovery.result = lambda self, ctx: None; r.PendingRecovery.close = lambda self: None; "
)


def run_triage(
    case: Path, out: Path, report: bool, recovery: bool = True, code_root: Path = ROOT
) -> tuple[float, float, int, float]:
    """(seconds, peak RSS MiB, exit code, CPU seconds) of ``triage run`` in a child process,
    running the packages under ``code_root`` (the checkout, or its compiled copy)."""
    code = (
        "import sys; from triage.cli import main; sys.argv = ['triage'] + sys.argv[1:]; main()"
        if report
        else (
            "import sys; from pathlib import Path; from triage.casefile import load_case;"
            " from triage.run import run_case;"
            " run_case(load_case(Path(sys.argv[2])), Path(sys.argv[4]), report=False)"
        )
    )
    if not recovery:
        code = NO_RECOVERY + code
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    started = time.perf_counter()
    # Run in code_root: ``python -c`` puts the working directory first on sys.path, so from a
    # checkout's folder the child would import that checkout, not the code asked for.
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", str(case.resolve()), "--out", str(out.resolve())],
        env=env,
        cwd=code_root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0,):
        print(err[-2000:], file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bench(
    rows: int,
    folder: Path,
    report: bool,
    recovery: bool = True,
    repeat: int = 1,
    phones: int = 1,
) -> None:
    """Build the case (once), then ``repeat`` rounds of the naive export and ``triage run``
    alternating; the fastest of each is the figure (shared machines make single runs noisy).
    With two phones, each holds ``rows`` rows and the naive export reads both."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "msgstore.db"
    if not db.exists():
        started = time.perf_counter()
        _bench_db_module().build(db, rows)
        print(f"built {db.name} with {rows:,} rows in {time.perf_counter() - started:.1f}s")
    dbs = [db]
    if phones == 2:
        dbs.append(folder / "personal" / "msgstore.db")
        if not dbs[1].exists():
            build_second_phone(db, dbs[1])
    case = write_case(folder, rows, phones)
    code_root = compiled_copy(folder)
    out = folder / (("out" if recovery else "out-no-recovery") + ("-2" if phones == 2 else ""))
    naives: list[tuple[float, float]] = []
    runs: list[tuple[float, float, int, float]] = []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        exported = sum(naive_export(d, folder / f"naive-{n}.jsonl") for n, d in enumerate(dbs))
        naives.append((time.perf_counter() - started, time.process_time() - cpu_started))
        runs.append(run_triage(case, out, report, recovery, code_root))
    naive, naive_cpu = min(naives)
    seconds, rss, code, cpu = min(runs)
    store = out / "case.sqlite"
    messages = 0
    if store.exists():
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        conn.close()
    total = tree_bytes(out)
    store_bytes = store.stat().st_size if store.exists() else 0
    per = max(messages, 1)
    phoned = f" on each of {phones} phones" if phones > 1 else ""
    print(f"== {rows:,} rows{phoned} (msgstore.db {db.stat().st_size / 1e6:.0f} MB)")
    fastest = f", fastest of {repeat}" if repeat > 1 else ""
    print(f"naive export:      {naive:.2f}s, CPU {naive_cpu:.2f}s ({exported:,} lines{fastest})")
    what = ("" if report else " (no report)") + ("" if recovery else " (no deleted-row recovery)")
    print(f"triage run:        {seconds:.2f}s, CPU {cpu:.2f}s, exit {code}{what}{fastest}")
    if repeat > 1:
        print(
            f"  every round:     naive {', '.join(f'{n:.2f}' for n, _ in naives)} s;"
            f" run {', '.join(f'{r[0]:.2f}' for r in runs)} s"
        )
    # CPU time moves less than wall time on a machine other work shares.
    print(f"ratio:             {seconds / naive:.1f} (CPU time {cpu / max(naive_cpu, 1e-9):.1f})")
    print(f"peak RSS:          {max(r[1] for r in runs):.0f} MiB")
    print(f"messages stored:   {messages:,}")
    print(f"output:            {total / 1e6:.0f} MB, {total / per:.0f} bytes/message")
    print(f"case.sqlite:       {store_bytes / 1e6:.0f} MB, {store_bytes / per:.0f} bytes/message")
    print(f"load (uptime):     {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[300_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="build databases and outputs here and keep them")
    parser.add_argument("--no-report", action="store_true", help="run without writing the report")
    parser.add_argument(
        "--also-without-recovery",
        action="store_true",
        help="run each size a second time with deleted-row recovery turned off",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the naive export and the run, alternating; the fastest of each is used",
    )
    parser.add_argument(
        "--phones",
        type=int,
        choices=[1, 2],
        default=1,
        help="2: a case of two devices, a work and a personal phone of --rows rows each, sharing"
        " one group's messages",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for rows in args.rows:
            folder = base / f"rows-{rows}"
            report = not args.no_report
            bench(rows, folder, report, repeat=args.repeat, phones=args.phones)
            if args.also_without_recovery:
                bench(rows, folder, report, False, args.repeat, args.phones)


if __name__ == "__main__":
    main()
