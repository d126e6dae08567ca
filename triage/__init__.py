"""triage: mobile-device forensic triage for police misconduct investigations.

The parsers and the shipped profiles are part of this package: ``triage.parsers`` and
``triage.profiles``. In a checkout their folders sit beside ``triage/`` (``parsers/``,
``profiles/``: the layout is part of the design); an installed copy puts them inside the package
(see ``[tool.setuptools.package-dir]`` in ``pyproject.toml``), so no top-level name is claimed in
site-packages. For a checkout, the folder above is added to this package's search path so that
``triage.parsers`` resolves to ``parsers/`` there; an installed copy finds them inside.
"""

from pathlib import Path as _Path

__version__ = "0.1.0"

_here = _Path(__file__).resolve().parent
if not (_here / "parsers").is_dir() and (_here.parent / "parsers" / "__init__.py").is_file():
    __path__.append(str(_here.parent))  # noqa: F821 - the package's own search path
del _here
