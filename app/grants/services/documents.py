"""Document storage: type by magic bytes, size limits, zip-bomb guard, generated file names."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.common.cleaning import visible_text
from app.common.errors import DomainError
from app.common.programme import ALLOWED_UPLOAD_TYPES, ZIP_MAX_ENTRIES, ZIP_MAX_UNCOMPRESSED

_ODF_TEXT = "application/vnd.oasis.opendocument.text"
_ODF_SHEET = "application/vnd.oasis.opendocument.spreadsheet"
_ODF_MIMES = {_ODF_TEXT.encode(): _ODF_TEXT, _ODF_SHEET.encode(): _ODF_SHEET}


class UploadRejected(DomainError):
    """The uploaded file is not acceptable; ``message`` says why (German)."""


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    content_type: str
    size_bytes: int
    sha256: str
    original_name: str


def safe_filename(name: str) -> str:
    """A display name without path parts, control, bidi or zero-width characters (never used as
    a disk path; issue 14 finding 5: ``Bericht\u202efdp.exe`` must not show as "Berichtexe.pdf")."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "_", visible_text(name)).strip(" .")
    return (name or "dokument")[:200]


def _detect(data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        # ODF files name their type in the first entry "mimetype".
        for raw, mime in _ODF_MIMES.items():
            if data[30:38] == b"mimetype" and raw in data[38 : 38 + 80]:
                return mime
    kind = filetype.guess(data)
    return kind.mime if kind else None


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > ZIP_MAX_ENTRIES:
                raise UploadRejected(_l("Die Datei enthält zu viele Bestandteile."))
            if sum(i.file_size for i in infos) > ZIP_MAX_UNCOMPRESSED:
                raise UploadRejected(_l("Die Datei ist entpackt zu groß."))
    except zipfile.BadZipFile as exc:
        raise UploadRejected(_l("Die Datei ist beschädigt.")) from exc


def validate_upload(data: bytes, original_name: str) -> StoredFile:
    """Check size and type (by content, not by name) and compute the hash.

    :raises UploadRejected: empty, too large, unsupported type or a suspicious archive.
    """
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise UploadRejected(_l("Die Datei ist leer."))
    if len(data) > limit:
        raise UploadRejected(
            _l("Die Datei ist zu groß (höchstens %(limit)s MB).", limit=limit // (1024 * 1024))
        )
    mime = _detect(data)
    if mime not in ALLOWED_UPLOAD_TYPES:
        raise UploadRejected(
            _l(
                "Dieser Dateityp wird nicht angenommen. Erlaubt sind PDF, PNG, JPEG, "
                "DOCX, XLSX, ODT und ODS."
            )
        )
    if data[:4] == b"PK\x03\x04":
        _check_zip(data)
    return StoredFile(
        stored_name=uuid.uuid4().hex,
        content_type=mime,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=safe_filename(original_name),
    )


def upload_path(stored_name: str) -> Path:
    """Disk path of a stored file (names are generated hex strings only)."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError("invalid stored name")
    return Path(current_app.config["UPLOAD_DIR"]) / stored_name


def write_file(stored: StoredFile, data: bytes) -> None:
    """Write the bytes under the generated name (outside ``static/``)."""
    path = upload_path(stored.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def read_file(stored_name: str) -> bytes:
    return upload_path(stored_name).read_bytes()
