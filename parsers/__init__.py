"""Source-format parsers, one module per format.

Every :class:`triage.registry.Parser` subclass defined in a module here is found automatically;
see ``triage/registry.py`` for the contract and ``parsers/android_mmssms.py`` for an example.

``SNIFFS`` says, for a module, what detection must see in a file before any parser of that module
can match it, so that detection imports only the modules a file could belong to: a text export
does not import every database parser. It is also the first test of every ``match`` of the
module (:meth:`triage.registry.Parser.sniffed` applies it), so the two cannot drift apart. A
module not listed is imported for every file. The kinds are defined in
:data:`triage.registry.SNIFF_TESTS`; tests check, against every fixture, that detection gives
what asking every parser gives. ``none`` marks a module that defines no parser.
"""

SNIFFS: dict[str, str] = {
    "android_calllog": "sqlite",
    "android_contacts": "sqlite",
    "android_mmssms": "sqlite",
    "android_mmssms_recovered": "none",
    "ios_addressbook": "sqlite",
    "ios_callhistory": "sqlite",
    "ios_sms": "sqlite",
    "ios_sms_legacy": "sqlite",
    "ios_sms_recovered": "none",
    "messenger_android": "sqlite",
    "messenger_common": "none",
    "messenger_dyi_html": "html",
    "messenger_dyi_json": "json",
    "messenger_e2ee": "json",
    "messenger_recovered": "none",
    "sms_backup_calls_xml": "xml",
    "sms_backup_stream": "none",
    "sms_backup_xml": "xml",
    "typedstream": "none",
    "ufdr_report": "ufdr",
    "ufdr_xml": "none",
    "whatsapp_android": "sqlite",
    "whatsapp_common": "none",
    "whatsapp_contacts": "sqlite",
    "whatsapp_ios": "sqlite",
    "whatsapp_ios_calls": "sqlite",
    "whatsapp_recovered": "none",
    "whatsapp_txt": "text",
    "whatsapp_txt_grammar": "none",
    "whatsapp_txt_halves": "none",
}
