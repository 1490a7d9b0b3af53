"""The terminal's Ed25519 signing key: created once, kept private, shown only by its fingerprint."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from video.export.errors import ExportError

log = logging.getLogger(__name__)


KEY_FILE = Path("keys") / "terminal.ed25519"


def fingerprint_of(public_raw: bytes) -> str:
    """A public key's fingerprint: the SHA-256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(public_raw).hexdigest()


class SigningKey:
    """The terminal's Ed25519 private key. Its repr shows only the public fingerprint."""

    __slots__ = ("_key", "fingerprint", "path", "public_raw")

    def __init__(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._key = key
        self.path = path
        self.public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.fingerprint = fingerprint_of(self.public_raw)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode("ascii")

    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(fingerprint={self.fingerprint[:16]}…)"

    __str__ = __repr__


def load_or_create_key(data_dir: Path) -> SigningKey:
    """The terminal's signing key, ``DATA/keys/terminal.ed25519`` (PEM, PKCS#8, mode 0600).

    Created on first use. Two processes starting at once agree on one key: the new key is written
    to a private temporary file and hard-linked into place, so the file appears whole or not at all,
    and the loser of the race reads the winner's. An unreadable key file is an error, never
    replaced: exports signed with it would no longer match the terminal's fingerprint.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_synced(fd, pem)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return _load_key(path)  # another process made one first: use theirs
            except OSError:  # a file system without hard links: create it exclusively instead
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    return _load_key(path)
                _write_synced(fd, pem)
            created = SigningKey(key, path)
            log.info("created this terminal's signing key %s (fingerprint %s)", path, created.fingerprint)
            return created
        finally:
            tmp.unlink(missing_ok=True)
    return _load_key(path)


def _write_synced(fd: int, data: bytes) -> None:
    """Write ``data`` to a newly created file, flush it to disk and close it."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _load_key(path: Path) -> SigningKey:
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("the signing key %s was readable by others (mode %o); now 0600", path, mode)
            os.chmod(path, 0o600)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not an unencrypted PEM private key"
        raise ExportError(f"the terminal's signing key {path} is unusable: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ExportError(f"the terminal's signing key {path} is not an Ed25519 key")
    return SigningKey(key, path)


def public_key_of(text: str) -> bytes | None:
    """Raw public key bytes from base64 (32 bytes) or PEM text; None when neither."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            pub = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return None
        if not isinstance(pub, Ed25519PublicKey):
            return None
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def trusted_fingerprint(key: str) -> str:
    """A trusted key given as a fingerprint (64 hex digits), base64 public key or PEM, as a fingerprint."""
    k = key.strip().lower().replace(":", "")
    if len(k) == 64 and all(c in "0123456789abcdef" for c in k):
        return k
    raw = public_key_of(key)
    if raw is None:
        raise ValueError("not an Ed25519 public key (PEM or base64) nor a fingerprint (64 hex digits)")
    return fingerprint_of(raw)
