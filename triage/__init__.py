"""triage: mobile-device forensic triage for police misconduct investigations."""

__version__ = "0.1.0"
