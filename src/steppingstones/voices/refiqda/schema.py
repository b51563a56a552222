"""Validation against the official REFI-QDA XML schemas (``Project.xsd``, ``Codebook.xsd``).

The schemas are not part of this package: they are looked up in the folder named by the
``REFI_QDA_SCHEMA_DIR`` environment variable, else in ``shared/refi-qda/`` beside the
project's checkout (where the project keeps the standard and its schemas). Validation uses
the ``xmlschema`` package, which is imported only when a validation is asked for; the instance
document is parsed with entity expansion and external resources refused.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import Any

SCHEMA_DIR_ENV = "REFI_QDA_SCHEMA_DIR"


class SchemaUnavailable(FileNotFoundError):
    """The REFI-QDA schema files (or the xmlschema package) cannot be found."""


def _checkout_schema_dir() -> Path | None:
    here = Path(__file__).resolve()
    # src/steppingstones/voices/refiqda/schema.py: parents[4] is the checkout
    if len(here.parents) < 5:
        return None
    return here.parents[4].parent / "shared" / "refi-qda"


def find_schema_dir() -> Path | None:
    """The folder holding ``Project.xsd`` and ``Codebook.xsd``, or None."""
    candidates = []
    configured = os.environ.get(SCHEMA_DIR_ENV)
    if configured:
        candidates.append(Path(configured))
    checkout = _checkout_schema_dir()
    if checkout is not None:
        candidates.append(checkout)
    for folder in candidates:
        if (folder / "Project.xsd").is_file() and (folder / "Codebook.xsd").is_file():
            return folder
    return None


@functools.cache
def _schema(path: Path) -> Any:
    try:
        import xmlschema
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise SchemaUnavailable("the xmlschema package is needed to validate") from exc
    return xmlschema.XMLSchema(str(path))


def _validate(xml: bytes, file_name: str, schema_dir: Path | None) -> list[str]:
    folder = schema_dir or find_schema_dir()
    if folder is None or not (folder / file_name).is_file():
        raise SchemaUnavailable(
            f"{file_name} not found: set {SCHEMA_DIR_ENV} to the folder holding the REFI-QDA "
            "schemas"
        )
    import xmlschema

    schema = _schema((folder / file_name).resolve())
    try:
        resource = xmlschema.XMLResource(io.BytesIO(xml), defuse="always", allow="none")
        return [f"{error.path}: {error.reason}" for error in schema.iter_errors(resource)]
    except Exception as exc:  # malformed or hostile XML: a finding, not a crash
        return [f"not a valid XML document: {exc}"]


def validate_project_xml(xml: bytes, *, schema_dir: Path | None = None) -> list[str]:
    """The ways ``xml`` (a ``.qde`` document) breaks Project.xsd; empty when it is valid."""
    return _validate(xml, "Project.xsd", schema_dir)


def validate_codebook_xml(xml: bytes, *, schema_dir: Path | None = None) -> list[str]:
    """The ways ``xml`` (a ``.qdc`` document) breaks Codebook.xsd; empty when it is valid."""
    return _validate(xml, "Codebook.xsd", schema_dir)
