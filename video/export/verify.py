"""Verifying an evidence folder: the signature, every file's hash and the manifest, each named when changed.

Format 2 (written since complaint dossiers) lists every file of the folder with its size and SHA-256;
format 1 (one camera's MP4) is still read.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from video.export.keys import fingerprint_of, public_key_of, trusted_fingerprint
from video.export.manifest import FORMAT, MANIFEST, READABLE_VERSIONS, canonical_json, local_time
from video.footage import sha256_file


class FileState(StrEnum):
    """What :func:`verify` found of one file of the folder (the desktop words each)."""

    OK = "ok"
    MISSING = "missing"  # listed, not there
    CHANGED = "changed"  # its size or SHA-256 differs from the manifest's
    NOT_REGULAR = "not_regular"  # a symbolic link, a folder, a device…
    UNLISTED = "unlisted"  # there, not listed
    INVALID = "invalid"  # the manifest itself: unreadable, unsigned or changed after signing


@dataclass(frozen=True, slots=True)
class FileCheck:
    """One file's verdict; ``problem`` says it in English (for logs and the command line)."""

    name: str
    state: FileState
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.state is FileState.OK


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify` found: ``ok``, or ``problems`` in words (each names what changed).

    ``files`` is the verdict on each file of the folder (the manifest first), as far as it could be
    judged (an unreadable manifest leaves the others unjudged).
    """

    out_dir: Path
    problems: tuple[str, ...]
    manifest: Mapping[str, Any] | None = None  # as read (None when unreadable)
    signature_valid: bool = False
    files: tuple[FileCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def version(self) -> int | None:
        v = (self.manifest or {}).get("version")
        return v if isinstance(v, int) else None

    @property
    def fingerprint(self) -> str | None:
        signer = (self.manifest or {}).get("signer")
        fp = signer.get("fingerprint") if isinstance(signer, Mapping) else None
        return fp if isinstance(fp, str) else None

    def summary(self) -> list[str]:
        """The manifest in a few lines (cameras, span, records, who, why, when, signer) for people to read."""
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

            lines: list[str] = []
            req = m["requested"]
            if m["version"] == 1:
                parts: list[Mapping[str, Any]] = [m]
            else:
                parts = m["cameras"]
                subject = m.get("subject")
                if isinstance(subject, Mapping) and subject.get("complaint"):
                    lines.append(f"dossier: complaint {subject['complaint']}"
                                 + (f" ({subject['span']})" if subject.get("span") else ""))
                lines.append(f"span:    {t(req['start'])} – {t(req['end'])} {zone} requested")
            for part in parts:
                cam = part["camera"]
                name = ", ".join(str(x) for x in (cam.get("name"), cam.get("window")) if x)
                lines.append(f"camera:  {cam['id']}" + (f" ({name})" if name else ""))
                if "missing" in part:
                    lines.append(f"  no footage: {part['missing']}")
                    continue
                cov, video = part["covered"], part["video"]
                if m["version"] == 1:
                    lines.append(f"span:    {t(req['start'])} – {t(req['end'])} {zone} requested; "
                                 f"covered {t(cov['start'])} – {t(cov['end'])} ({cov['duration_ms'] / 1000:.1f} s)")
                else:
                    lines.append(f"  covered {t(cov['start'])} – {t(cov['end'])} ({cov['duration_ms'] / 1000:.1f} s)")
                lines += [
                    f"{'video:' if m['version'] == 1 else '  video'}   {video['file']}, {video['codec']} "
                    f"{video['width']}×{video['height']}, {video['frames']} frames, {video['bytes']} bytes, "
                    f"SHA-256 {video['sha256']}",
                    f"{'sources:' if m['version'] == 1 else '  sources'} {len(part['sources'])} segments; "
                    f"gaps: {len(part['gaps'])}",
                ]
                lines += [f"  gap {t(g['start'])} – {t(g['end'])}: {g['reason']}" for g in part["gaps"]]
            if m["version"] != 1:
                records = [r["file"] for r in m.get("records", [])]
                if records:
                    lines.append(f"records: {', '.join(records)}")
                lines.append(f"files:   {len(m['files'])} besides {MANIFEST}, each with its SHA-256")
            lines += [
                f"who:     {exported['by']}",
                f"why:     {exported['reason'] or '(no reason given)'}",
                f"when:    {t(exported['at'])} {zone} on terminal {exported['terminal']} ({exported['software']})",
                f"signed:  Ed25519 key {self.fingerprint}",
            ]
            return lines
        except (KeyError, TypeError, ValueError, AttributeError):
            return ["(the manifest's fields are not all readable)"]


_COMMON: dict[str, type] = {
    "format": str, "version": int, "requested": dict, "exported": dict, "signer": dict, "signature": str,
}
_REQUIRED: dict[int, dict[str, type]] = {
    1: {**_COMMON, "camera": dict, "covered": dict, "video": dict, "sources": list, "gaps": list},
    2: {**_COMMON, "cameras": list, "records": list, "files": list},
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
    """Check an evidence folder written by :func:`~video.export.export` (format 2, or format 1 of old).

    Names each problem: the manifest missing, unparseable or not a manifest; its signature invalid
    (the manifest changed after it was signed); a listed file (a video, a record) missing or changed
    (size or SHA-256); the manifest or a file not a regular file in the folder (a symbolic link to
    anywhere is not evidence); a file in the folder the manifest does not list; the signer not the
    ``trusted`` key (a fingerprint, or an Ed25519 public key as PEM or base64).
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

    def bad_manifest(problem: str, manifest: Mapping[str, Any] | None = None) -> VerifyResult:
        return VerifyResult(out_dir, (*problems, problem), manifest,
                            files=(FileCheck(MANIFEST, FileState.INVALID, problem),))

    if not os.path.lexists(mpath):
        names = sorted(p.name for p in out_dir.iterdir())
        problem = f"{MANIFEST} is missing" + (
            f" (the folder holds {', '.join(names)})" if names else " (the folder is empty)")
        return VerifyResult(out_dir, (*problems, problem), files=(FileCheck(MANIFEST, FileState.MISSING, problem),))
    not_evidence = _not_a_regular_file(mpath)
    if not_evidence is not None:
        problem = f"{MANIFEST} {not_evidence}"
        return VerifyResult(out_dir, (*problems, problem),
                            files=(FileCheck(MANIFEST, FileState.NOT_REGULAR, problem),))
    try:
        raw = json.loads(mpath.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        return bad_manifest(f"{MANIFEST} is unparseable: not UTF-8 text (it was changed)")
    except RecursionError:
        return bad_manifest(f"{MANIFEST} is unparseable: nested too deeply (it was changed)")
    except ValueError as e:
        return bad_manifest(f"{MANIFEST} is unparseable: {_clip(str(e))} (it was changed)")
    if not isinstance(raw, dict):
        return bad_manifest(f"{MANIFEST} is not an evidence manifest (not a JSON object)")
    manifest: dict[str, Any] = raw
    if manifest.get("format") != FORMAT:
        return bad_manifest(f"{MANIFEST} is not a HallWatch evidence manifest", manifest)
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE_VERSIONS:
        return bad_manifest(f"{MANIFEST} has format version {_clip(repr(version), 40)}; this HallWatch reads "
                            f"{' and '.join(str(v) for v in READABLE_VERSIONS)}", manifest)
    wrong = [k for k, typ in _REQUIRED[version].items() if not isinstance(manifest.get(k), typ)]
    if wrong:
        return bad_manifest(f"{MANIFEST} is not a complete evidence manifest: "
                            f"{', '.join(wrong)} missing or of the wrong type (it was changed)", manifest)

    # The signature over everything else.
    manifest_problems: list[str] = []
    signature_valid = False
    signer = manifest["signer"]
    public_raw = public_key_of(str(signer.get("public_key", "")))
    if signer.get("algorithm") != "Ed25519" or public_raw is None:
        manifest_problems.append(f"{MANIFEST}: the signer's public key is unusable (it was changed)")
    else:
        if signer.get("fingerprint") != fingerprint_of(public_raw):
            manifest_problems.append(
                f"{MANIFEST}: the signer's fingerprint does not belong to its public key (it was changed)")
        body = {k: v for k, v in manifest.items() if k != "signature"}
        try:
            Ed25519PublicKey.from_public_bytes(public_raw).verify(
                base64.b64decode(manifest["signature"], validate=True), canonical_json(body))
            signature_valid = True
        except (InvalidSignature, ValueError):
            manifest_problems.append(f"{MANIFEST} was changed after it was signed: the signature is invalid")
        fp = fingerprint_of(public_raw)
        if trusted_fp is not None and fp != trusted_fp:
            manifest_problems.append(f"signed by key {fp}, not by the trusted key {trusted_fp}")

    # The files it lists: (name, bytes, sha256, what it is) — or a problem with the listing itself.
    listed: list[tuple[Any, Any, Any, str]] = []
    if version == 1:
        video = manifest["video"]
        listed.append((video.get("file"), video.get("bytes"), video.get("sha256"), "video"))
    else:
        videos = {
            part["video"].get("file") for part in manifest["cameras"]
            if isinstance(part, dict) and isinstance(part.get("video"), dict)
        }
        for entry in manifest["files"]:
            if not isinstance(entry, dict):
                listed.append((None, None, None, "file"))
                continue
            name = entry.get("path")
            listed.append((name, entry.get("bytes"), entry.get("sha256"), "video" if name in videos else "file"))
        listed_names = {n for n, _b, _h, _w in listed}
        for v in sorted(str(v) for v in videos if v not in listed_names):
            manifest_problems.append(f"{MANIFEST} describes the video {_clip(v, 200)} but does not list it "
                                     "(it was changed)")
    checks: list[FileCheck] = [FileCheck(MANIFEST, FileState.INVALID if manifest_problems else FileState.OK,
                                         "; ".join(manifest_problems))]
    problems += manifest_problems
    seen = {MANIFEST}
    for name, size_listed, sha_listed, what in listed:
        if not isinstance(name, str) or not name or Path(name).name != name or name in (".", "..", MANIFEST) \
                or "\\" in name or name in seen:
            problem = f"{MANIFEST} lists an invalid {what} name {_clip(repr(name), 200)} (it was changed)"
            problems.append(problem)
            checks[0] = FileCheck(MANIFEST, FileState.INVALID, "; ".join(filter(None, (checks[0].problem, problem))))
            continue
        seen.add(name)
        path = out_dir / name
        if not os.path.lexists(path):
            check = FileCheck(name, FileState.MISSING, f"the {what} {name} is missing")
        elif (not_evidence := _not_a_regular_file(path)) is not None:
            check = FileCheck(name, FileState.NOT_REGULAR, f"the {what} {name} {not_evidence}")
        elif (size := path.stat().st_size) != size_listed:
            check = FileCheck(name, FileState.CHANGED,
                              f"the {what} {name} was changed: it has {size} bytes, the manifest says {size_listed}")
        elif sha256_file(path) != sha_listed:
            check = FileCheck(name, FileState.CHANGED,
                              f"the {what} {name} was changed: its SHA-256 differs from the manifest's")
        else:
            check = FileCheck(name, FileState.OK)
        checks.append(check)
        if not check.ok:
            problems.append(check.problem)

    # Nothing else belongs in the folder.
    for p in sorted(out_dir.iterdir()):
        if p.name not in seen:
            kind = "symbolic link" if p.is_symlink() else "folder" if p.is_dir() else "file"
            problem = f"unknown {kind} {p.name} in the evidence folder (not listed in the manifest)"
            problems.append(problem)
            checks.append(FileCheck(p.name, FileState.UNLISTED, problem))
    return VerifyResult(out_dir, tuple(problems), manifest, signature_valid, tuple(checks))
