"""Lexicon hits: words, phrases, patterns and emoji of the case's lexicons found in messages.

One pass over every live message with text (system rows left out) through
:class:`triage.lexicon.Matcher`, a batch of texts at a time (its prefilter rules most out at
once; only the messages with hits are read further). A hit is one occurrence of one term;
counts are given per category as hits and as messages with at least one hit, per case contact
(the contacts analyser's ``contacts`` label), per group conversation and, in a group, per
member who wrote the message (the subject for his own messages). Findings say only that the words occur; each hit
is listed with its message so the reader judges what it means.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.parties import plural
from triage.casefile import Case
from triage.lexicon import CATEGORIES, Matcher, load_lexicons
from triage.store import Finding, Store

SUBJECT = "subject"


def _tally() -> dict[str, dict[str, int]]:
    return defaultdict(lambda: {"hits": 0, "messages": 0})


def _counts(tally: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {c: dict(tally[c]) for c in CATEGORIES if c in tally}


class LexiconAnalyser(Analyser):
    name = "lexicon"
    version = "1"
    beside = True
    reads = (("contacts", "labels"),)

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        lexicons = load_lexicons(case.lexicons)
        settings.values["lexicons"] = [lex.identity() for lex in lexicons]
        matcher = Matcher(lexicons)
        contacts_of = store.labels("contacts", "contacts")
        parties = store.parties()
        names = {c.key: c.name for c in case.contacts}

        total = _tally()
        by_contact: dict[str, dict[str, dict[str, int]]] = defaultdict(_tally)
        by_group: dict[str, dict[str, dict[str, int]]] = defaultdict(_tally)
        by_member: dict[str, dict[str, dict[str, dict[str, int]]]] = defaultdict(
            lambda: defaultdict(_tally)
        )
        member_names: dict[str, dict[str, str | None]] = defaultdict(dict)
        hits_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        labels: list[tuple[int, str, Any]] = []
        scanned = 0
        for batch in store.message_bodies():
            scanned += len(batch)
            found = matcher.scan([text for _, text in batch])
            facts = store.message_text_facts([batch[i][0] for i, _ in found])
            for i, hits in found:
                mid = batch[i][0]
                conv, is_group, sender, direction = facts[mid]
                rows = [
                    {"category": h.category, "term": h.term, "start": h.start, "end": h.end}
                    for h in hits
                ]
                labels.append((mid, "hits", rows))
                per_category: dict[str, int] = defaultdict(int)
                for h in hits:
                    per_category[h.category] += 1
                tallies = [total]
                subjects = []
                for key in contacts_of.get(mid) or []:
                    tallies.append(by_contact[key])
                    subjects.append(key)
                if is_group:
                    tallies.append(by_group[conv])
                    subjects.append(conv)
                    member, shown = self._member(direction, sender, parties)
                    tallies.append(by_member[conv][member])
                    member_names[conv][member] = shown
                for tally in tallies:
                    for category, n in per_category.items():
                        tally[category]["hits"] += n
                        tally[category]["messages"] += 1
                for subject in subjects:
                    hits_of[subject].append(
                        {
                            "message_id": mid,
                            "conversation": conv,
                            "direction": direction,
                            "categories": sorted(per_category),
                            "hits": rows,
                        }
                    )
        store.add_labels(self.name, labels)

        findings: list[Finding] = []
        for key in [c.key for c in case.contacts if c.key in by_contact]:
            counts = _counts(by_contact[key])
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="lexicon.contact",
                    subject=key,
                    title=f"Lexicon terms in messages with {names[key]}",
                    why=self._why(f"messages with {names[key]}", counts),
                    weight=0.4,
                    data={"name": names[key], "categories": counts, "messages": hits_of[key]},
                    refs=[h["message_id"] for h in hits_of[key]],
                )
            )
        for conv in sorted(by_group):
            counts = _counts(by_group[conv])
            members = [
                {
                    "member": member,
                    "name": member_names[conv][member],
                    "categories": _counts(tally),
                }
                for member, tally in sorted(by_member[conv].items())
            ]
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="lexicon.group",
                    subject=conv,
                    title="Lexicon terms in a group conversation",
                    why=self._why("this group conversation", counts)
                    + f" {plural(len(members), 'member')} wrote them.",
                    weight=0.4,
                    data={"categories": counts, "members": members, "messages": hits_of[conv]},
                    refs=[h["message_id"] for h in hits_of[conv]],
                )
            )
        findings.append(
            Finding(
                analyser=self.name,
                rule="lexicon.summary",
                title="Lexicon search",
                why=(
                    f"{scanned} messages with text were searched with "
                    + ", ".join(f"{x.name} version {x.version}" for x in lexicons)
                    + f"; {len(labels)} "
                    "contained at least one term. A term found says only that the words occur."
                ),
                data={
                    "lexicons": [x.identity() for x in lexicons],
                    "messages_searched": scanned,
                    "messages_with_hits": len(labels),
                    "categories": _counts(total),
                    "by_contact": {k: _counts(v) for k, v in sorted(by_contact.items())},
                    "by_group": {k: _counts(v) for k, v in sorted(by_group.items())},
                },
            )
        )
        return findings

    @staticmethod
    def _member(direction: str, sender: int | None, parties: dict) -> tuple[str, str | None]:
        """A group message's writer, as a stable key and a name to show."""
        if direction == "outgoing":
            return SUBJECT, None
        if sender is None:
            return "unknown", None
        p = parties[sender]
        return (p.id or p.raw), p.name or p.raw

    @staticmethod
    def _why(where: str, counts: dict[str, dict[str, int]]) -> str:
        parts = [
            f"{plural(c['messages'], 'message')} with {plural(c['hits'], 'term')} of the "
            f"category {category}"
            for category, c in counts.items()
        ]
        return f"In {where}: " + "; ".join(parts) + "."
