"""Analysers: read the case store, write findings back to it.

Each analyser is a class with a ``name``, a ``version`` and ``run(store, case, settings)``
returning findings; ``ANALYSERS`` fixes the order they run in (later ones may read the findings of
earlier ones from the store, never from each other's objects).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from triage.casefile import Case
from triage.store import Finding, Store


@dataclass
class Settings:
    """Analysis settings recorded in the manifest (thresholds, profiles used)."""

    values: dict[str, Any] = field(default_factory=dict)


class Analyser(ABC):
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    #: Whether it may be computed in a second process beside the stage
    #: (:mod:`triage.analysers.stage`): it writes to the store only labels, through
    #: ``Store.add_labels``, and returns its findings; it reads no setting an earlier analyser
    #: set, and of earlier analysers' results only what ``reads`` names.
    beside: ClassVar[bool] = False
    #: What a ``beside`` analyser reads of earlier analysers' results: (analyser name,
    #: ``"labels"`` or ``"findings"``) pairs. It starts once they are all in the store.
    reads: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Whether it writes all its labels in one ``Store.add_labels`` call: an analyser that reads
    #: only its labels can then start as soon as that call returned, not when it is recorded.
    labels_at_once: ClassVar[bool] = False

    @abstractmethod
    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        """Implemented by every subclass."""


def analysers() -> list[Analyser]:
    """The analysers, in the order they run: contacts first (duty and gaps read its labels)."""
    from triage.analysers.audit import AuditAnalyser
    from triage.analysers.chronology import ChronologyAnalyser
    from triage.analysers.contacts import ContactsAnalyser
    from triage.analysers.devices import DevicesAnalyser
    from triage.analysers.duty import DutyAnalyser
    from triage.analysers.gaps import GapsAnalyser
    from triage.analysers.groups import GroupsAnalyser
    from triage.analysers.lexicon import LexiconAnalyser
    from triage.analysers.media import MediaAnalyser

    return [
        ContactsAnalyser(),
        DutyAnalyser(),
        DevicesAnalyser(),
        GapsAnalyser(),
        MediaAnalyser(),
        LexiconAnalyser(),
        GroupsAnalyser(),
        AuditAnalyser(),
        ChronologyAnalyser(),
    ]
