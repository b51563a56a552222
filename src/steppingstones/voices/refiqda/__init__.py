"""REFI-QDA project and codebook exchange (``.qdpx``, ``.qdc``), as plain Python.

The standard: REFI-QDA 1.5, "Exchange of processed data between qualitative data analysis
software packages" (Rotterdam Exchange Format Initiative), with its schemas Project.xsd and
Codebook.xsd. No Django here: views and tasks turn the :class:`Project` into the platform's
records and back.

::

    project = read_qdpx(upload_bytes, label="interviews.qdpx")  # or RefiQdaError
    data = write_qdpx(project)                                  # .qdpx bytes
    problems = validate_project_xml(project_xml(project)[0])    # [] when valid
    codebook = read_qdc(path); write_qdc(project.codebook())

See :mod:`.reader` for the dialects accepted and the checks made, :mod:`.archive` for the
defences against hostile archives, :mod:`.positions` for how text positions count.
"""

from .archive import MAX_FILES, MAX_RATIO, MAX_TOTAL_BYTES
from .model import (
    Case,
    Code,
    Codebook,
    Coding,
    Edge,
    Graph,
    Link,
    MediaSelection,
    Note,
    OtherSource,
    PlainTextSelection,
    Project,
    Set,
    Source,
    SyncPoint,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    Value,
    Variable,
    VariableValue,
    Vertex,
)
from .positions import PositionMap, is_nvivo
from .reader import canonical_guid, decode_text, read_project_xml, read_qdc, read_qdpx
from .schema import (
    SchemaUnavailable,
    find_schema_dir,
    validate_codebook_xml,
    validate_project_xml,
)
from .writer import EXPORT_ORIGIN, project_xml, write_qdc, write_qdpx
from .xmltree import RefiQdaError

__all__ = [
    "EXPORT_ORIGIN",
    "MAX_FILES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "Case",
    "Code",
    "Codebook",
    "Coding",
    "Edge",
    "Graph",
    "Link",
    "MediaSelection",
    "Note",
    "OtherSource",
    "PlainTextSelection",
    "PositionMap",
    "Project",
    "RefiQdaError",
    "SchemaUnavailable",
    "Set",
    "Source",
    "SyncPoint",
    "TextSource",
    "Transcript",
    "TranscriptSelection",
    "User",
    "Value",
    "Variable",
    "VariableValue",
    "Vertex",
    "canonical_guid",
    "decode_text",
    "find_schema_dir",
    "is_nvivo",
    "project_xml",
    "read_project_xml",
    "read_qdc",
    "read_qdpx",
    "validate_codebook_xml",
    "validate_project_xml",
    "write_qdc",
    "write_qdpx",
]
