"""Verifying an evidence folder: the signature, the MP4's hash and the manifest, each named when changed."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from video.export.keys import fingerprint_of, public_key_of, trusted_fingerprint
from video.export.manifest import FORMAT, FORMAT_VERSION, MANIFEST, canonical_json, local_time
from video.footage import sha256_file


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify` found: ``ok``, or ``problems`` in words (each names what changed)."""

    out_dir: Path
    problems: tuple[str, ...]
    manifest: Mapping[str, Any] | None = None  # as read (None when unreadable)
    signature_valid: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fingerprint(self) -> str | None:
        signer = (self.manifest or {}).get("signer")
        fp = signer.get("fingerprint") if isinstance(signer, Mapping) else None
        return fp if isinstance(fp, str) else None

    def summary(self) -> list[str]:
        """The manifest in a few lines (camera, span, who, why, when, signer) for people to read."""
        m = self.manifest
        if not isinstance(m, Mapping):
            return []
        try:
            exported = m["exported"]
            zone: tzinfo
            try:
                zone = ZoneInfo(str(exported.get("zone") or "UTC"))
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC

            def t(text: str) -> str:
                return local_time(datetime.fromisoformat(text), zone)

            cam = m["camera"]
            name = ", ".join(str(x) for x in (cam.get("name"), cam.get("window")) if x)
            req, cov, video = m["requested"], m["covered"], m["video"]
            lines = [
                f"camera:  {cam['id']}" + (f" ({name})" if name else ""),
                f"span:    {t(req['start'])} – {t(req['end'])} {zone} requested; "
                f"covered {t(cov['start'])} – {t(cov['end'])} ({cov['duration_ms'] / 1000:.1f} s)",
                f"video:   {video['file']}, {video['codec']} {video['width']}×{video['height']}, "
                f"{video['frames']} frames, {video['bytes']} bytes, SHA-256 {video['sha256']}",
                f"sources: {len(m['sources'])} segments; gaps: {len(m['gaps'])}",
            ]
            lines += [f"  gap {t(g['start'])} – {t(g['end'])}: {g['reason']}" for g in m["gaps"]]
            lines += [
                f"who:     {exported['by']}",
                f"why:     {exported['reason'] or '(no reason given)'}",
                f"when:    {t(exported['at'])} {zone} on terminal {exported['terminal']} ({exported['software']})",
                f"signed:  Ed25519 key {self.fingerprint}",
            ]
            return lines
        except (KeyError, TypeError, ValueError, AttributeError):
            return ["(the manifest's fields are not all readable)"]


_REQUIRED: dict[str, type] = {
    "format": str, "version": int, "camera": dict, "requested": dict, "covered": dict, "video": dict,
    "sources": list, "gaps": list, "exported": dict, "signer": dict, "signature": str,
}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"the key {k!r} appears twice")
        seen[k] = v
    return seen


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not evidence (a symbolic link, a folder, a device…), or None for a regular file.

    Evidence is regular files inside the folder: a link could point anywhere, and what it points at
    can change without the folder changing.
    """
    try:
        st = path.lstat()
    except OSError as e:
        return f"cannot be read: {e.strerror}"
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"is a symbolic link (to {_clip(target, 200)}), not a file in the evidence folder"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None


def _clip(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters of ``text`` (a hostile manifest can make error text very long)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verify(out_dir: Path, *, trusted: str | None = None) -> VerifyResult:
    """Check an evidence folder written by :func:`export`.

    Names each problem: the manifest missing, unparseable or not a manifest; its signature invalid
    (the manifest changed after it was signed); the video missing or changed (size or SHA-256); the
    manifest or the video not a regular file in the folder (a symbolic link to anywhere is not
    evidence); a file in the folder the manifest does not list; the signer not the ``trusted`` key
    (a fingerprint, or an Ed25519 public key as PEM or base64).
    """
    problems: list[str] = []
    trusted_fp: str | None = None
    if trusted is not None:
        try:
            trusted_fp = trusted_fingerprint(trusted)
        except ValueError as e:
            problems.append(f"the trusted key given is unusable: {e}")
    if not out_dir.is_dir():
        return VerifyResult(out_dir, (*problems, f"{out_dir} is not a folder"))
    mpath = out_dir / MANIFEST
    if not os.path.lexists(mpath):
        names = sorted(p.name for p in out_dir.iterdir())
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is missing" + (
            f" (the folder holds {', '.join(names)})" if names else " (the folder is empty)")))
    not_evidence = _not_a_regular_file(mpath)
    if not_evidence is not None:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} {not_evidence}"))
    try:
        raw = json.loads(mpath.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: not UTF-8 text (it was changed)"))
    except RecursionError:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: nested too deeply (it was changed)"))
    except ValueError as e:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: {_clip(str(e))} (it was changed)"))
    if not isinstance(raw, dict):
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not an evidence manifest (not a JSON object)"))
    manifest: dict[str, Any] = raw
    wrong = [k for k, typ in _REQUIRED.items() if not isinstance(manifest.get(k), typ)]
    if manifest.get("format") != FORMAT:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not a HallWatch evidence manifest"), manifest)
    if wrong:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not a complete evidence manifest: "
                                      f"{', '.join(wrong)} missing or of the wrong type (it was changed)"), manifest)
    if manifest["version"] != FORMAT_VERSION:
        problems.append(f"{MANIFEST} has format version {manifest['version']}; this HallWatch reads {FORMAT_VERSION}")

    # The signature over everything else.
    signature_valid = False
    signer = manifest["signer"]
    public_raw = public_key_of(str(signer.get("public_key", "")))
    if signer.get("algorithm") != "Ed25519" or public_raw is None:
        problems.append(f"{MANIFEST}: the signer's public key is unusable (it was changed)")
    else:
        if signer.get("fingerprint") != fingerprint_of(public_raw):
            problems.append(f"{MANIFEST}: the signer's fingerprint does not belong to its public key (it was changed)")
        body = {k: v for k, v in manifest.items() if k != "signature"}
        try:
            Ed25519PublicKey.from_public_bytes(public_raw).verify(
                base64.b64decode(manifest["signature"], validate=True), canonical_json(body))
            signature_valid = True
        except (InvalidSignature, ValueError):
            problems.append(f"{MANIFEST} was changed after it was signed: the signature is invalid")
        fp = fingerprint_of(public_raw)
        if trusted_fp is not None and fp != trusted_fp:
            problems.append(f"signed by key {fp}, not by the trusted key {trusted_fp}")

    # The video it describes.
    video = manifest["video"]
    name = video.get("file")
    listed = {MANIFEST}
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        problems.append(f"{MANIFEST} names no valid video file (it was changed)")
    else:
        listed.add(name)
        vpath = out_dir / name
        not_evidence = _not_a_regular_file(vpath) if os.path.lexists(vpath) else None
        if not os.path.lexists(vpath):
            problems.append(f"the video {name} is missing")
        elif not_evidence is not None:
            problems.append(f"the video {name} {not_evidence}")
        else:
            size = vpath.stat().st_size
            if size != video.get("bytes"):
                problems.append(
                    f"the video {name} was changed: it has {size} bytes, the manifest says {video.get('bytes')}"
                )
            elif sha256_file(vpath) != video.get("sha256"):
                problems.append(f"the video {name} was changed: its SHA-256 differs from the manifest's")

    # Nothing else belongs in the folder.
    for p in sorted(out_dir.iterdir()):
        if p.name not in listed:
            kind = "symbolic link" if p.is_symlink() else "folder" if p.is_dir() else "file"
            problems.append(f"unknown {kind} {p.name} in the evidence folder (not listed in the manifest)")
    return VerifyResult(out_dir, tuple(problems), manifest, signature_valid)
