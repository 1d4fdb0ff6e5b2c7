"""Photos and documents of a case: checked by content, stored outside the web root."""

import hashlib
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from mediation.cases.models import Attachment, Case, EventKind
from mediation.cases.operations import audit_case, log_event
from mediation.core import audit
from mediation.core.errors import OperationError
from mediation.extensions import db

# Recognised by their first bytes, whatever the file is called.
SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
]
WEBP = ("image/webp", b"RIFF", b"WEBP")


def sniff(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == WEBP[1] and head[8:12] == WEBP[2]:
        return WEBP[0]
    return None


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"]) / sha256[:2] / sha256


def upload_limit() -> int:
    return current_app.config["MAX_ATTACHMENT_BYTES"]


def add_attachment(by, case: Case, filename: str, data: bytes,
                   description: str | None = None) -> Attachment:
    """Store a photo (JPEG, PNG, WebP) or a PDF; anything else, or too large, is refused."""
    limit = upload_limit()
    if len(data) > limit:
        raise OperationError(_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
                             field="file")
    if not data:
        raise OperationError(_("The file is empty."), field="file")
    content_type = sniff(data[:16])
    if content_type is None:
        raise OperationError(_("Only photos (JPEG, PNG, WebP) and PDF documents can be "
                               "attached."), field="file")
    sha256 = hashlib.sha256(data).hexdigest()
    path = storage_path(sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    attachment = Attachment(case=case, filename=filename[:200] or "file", content_type=content_type,
                            size=len(data), sha256=sha256, description=description or None,
                            uploaded_by_id=by.id if by else None)
    db.session.add(attachment)
    log_event(case, by, EventKind.ATTACHMENT, reason=filename[:200],
           data={"size": len(data), "type": content_type})
    audit_case("attachment.add", case, by, after={"filename": filename[:200], "sha256": sha256})
    db.session.flush()
    return attachment


def read_attachment(attachment: Attachment) -> bytes:
    return storage_path(attachment.sha256).read_bytes()


def open_attachment(by, attachment: Attachment) -> Path:
    """Where the stored file is, for someone who may see its case to download it; each
    download is in the audit log (the files show the parties)."""
    audit.record("attachment.read", attachment, actor=by, note=attachment.case.number)
    return storage_path(attachment.sha256)
