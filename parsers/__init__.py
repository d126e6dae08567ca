"""Source-format parsers, one module per format.

Every :class:`triage.registry.Parser` subclass defined in a module here is found automatically;
see ``triage/registry.py`` for the contract and ``parsers/android_mmssms.py`` for an example.
"""
