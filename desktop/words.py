"""The codes the Qt-free packages give, worded for the user (translatable), in one place.

``supervision`` and ``app`` speak in codes (levels, states, rule codes, measures, statuses) and
keep English text for the logs; every word the operator reads is made here with
``QCoreApplication.translate("Words", ...)`` and literal English source strings, so
``pyside6-lupdate`` finds them and the zh_CN translation covers them. An unknown code is shown
as itself (a newer server may send one), never as an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication

__all__ = [
    "action_error_text",
    "case_status_text",
    "code_text",
    "detail_text",
    "level_text",
    "measure_text",
    "reject_text",
    "stage_text",
    "state_text",
    "subject_type_text",
    "ticket_status_text",
]


def level_text(level: str | None) -> str:
    """A warning level: notice 预警, yellow 黄牌, red 红牌; None: no warning."""
    match str(level) if level is not None else None:
        case "notice":
            return QCoreApplication.translate("Words", "Notice")
        case "yellow":
            return QCoreApplication.translate("Words", "Yellow card")
        case "red":
            return QCoreApplication.translate("Words", "Red card")
        case None | "" | "green":
            return QCoreApplication.translate("Words", "No warning")
    return str(level)


def state_text(state: str | None) -> str:
    """A warning's lifecycle state."""
    match str(state) if state is not None else "":
        case "active":
            return QCoreApplication.translate("Words", "Not acknowledged")
        case "acknowledged":
            return QCoreApplication.translate("Words", "Acknowledged")
        case "disposed":
            return QCoreApplication.translate("Words", "Disposed")
        case "cleared":
            return QCoreApplication.translate("Words", "Cleared")
    return str(state or "")


def code_text(code: str | None) -> str:
    """A warning rule's code as its name."""
    match str(code) if code is not None else "":
        case "DUE_SOON":
            return QCoreApplication.translate("Words", "Due soon")
        case "OVERDUE":
            return QCoreApplication.translate("Words", "Overdue")
        case "STAGE_LATE":
            return QCoreApplication.translate("Words", "Stage late")
        case "FEE_MISMATCH":
            return QCoreApplication.translate("Words", "Fee mismatch")
        case "STAGE_SKIPPED":
            return QCoreApplication.translate("Words", "Stage skipped")
        case "SUSPENDED_LONG":
            return QCoreApplication.translate("Words", "Suspended too long")
        case "WAIT_LONG":
            return QCoreApplication.translate("Words", "Long wait")
        case "POST_LEFT":
            return QCoreApplication.translate("Words", "Post left")
        case "DISK_FULL":
            return QCoreApplication.translate("Words", "Disk full")
    return str(code or "")


def measure_text(measure: str | None) -> str:
    """A disposal measure: supervise 督办, correct 纠错, explain 说明."""
    match str(measure) if measure is not None else "":
        case "supervise":
            return QCoreApplication.translate("Words", "Supervise")
        case "correct":
            return QCoreApplication.translate("Words", "Correct")
        case "explain":
            return QCoreApplication.translate("Words", "Explain")
    return str(measure or "")


def subject_type_text(subject_type: str | None) -> str:
    match subject_type or "":
        case "case":
            return QCoreApplication.translate("Words", "Case")
        case "ticket":
            return QCoreApplication.translate("Words", "Ticket")
        case "window":
            return QCoreApplication.translate("Words", "Window")
    return str(subject_type or "")


def case_status_text(status: str | None) -> str:
    match status or "":
        case "submitted":
            return QCoreApplication.translate("Words", "Submitted")
        case "accepted":
            return QCoreApplication.translate("Words", "Accepted")
        case "in_progress":
            return QCoreApplication.translate("Words", "In progress")
        case "suspended":
            return QCoreApplication.translate("Words", "Suspended")
        case "completed":
            return QCoreApplication.translate("Words", "Completed")
        case "rejected":
            return QCoreApplication.translate("Words", "Rejected")
        case "withdrawn":
            return QCoreApplication.translate("Words", "Withdrawn")
    return str(status or "")


def stage_text(stage: str | None) -> str:
    match stage or "":
        case "submitted":
            return QCoreApplication.translate("Words", "Submitted")
        case "accepted":
            return QCoreApplication.translate("Words", "Accepted")
        case "handled":
            return QCoreApplication.translate("Words", "Handled")
        case "reviewed":
            return QCoreApplication.translate("Words", "Reviewed")
        case "decided":
            return QCoreApplication.translate("Words", "Decided")
        case "completed":
            return QCoreApplication.translate("Words", "Completed")
    return str(stage or "")


def ticket_status_text(status: str | None) -> str:
    match status or "":
        case "waiting":
            return QCoreApplication.translate("Words", "Waiting")
        case "called":
            return QCoreApplication.translate("Words", "Called")
        case "serving":
            return QCoreApplication.translate("Words", "Serving")
        case "done":
            return QCoreApplication.translate("Words", "Done")
        case "missed":
            return QCoreApplication.translate("Words", "Missed")
        case "transferred":
            return QCoreApplication.translate("Words", "Transferred")
    return str(status or "")


def detail_text(code: str | None, detail: Mapping[str, Any]) -> str:
    """A warning's parameters (``DerivedWarning.detail``) in words; empty when it has none."""
    if not detail:
        return ""
    parts: list[str] = []
    if "fee" in detail or "fee_charged" in detail:
        parts.append(QCoreApplication.translate("Words", "charged {charged}, standard fee {fee}").format(
            charged=detail.get("fee_charged", "?"), fee=detail.get("fee", "?")))
    if "stages" in detail:
        names = ", ".join(stage_text(str(s)) for s in detail.get("stages") or ())
        parts.append(QCoreApplication.translate("Words", "late: {stages}").format(stages=names))
    reason = detail.get("reason")
    if isinstance(reason, str) and reason:
        parts.append(_skipped_reason(reason))
    for key, value in detail.items():
        if key in ("fee", "fee_charged", "stages", "reason"):
            continue
        if key == "minutes":
            parts.append(QCoreApplication.translate("Words", "{minutes} min").format(minutes=value))
        elif key in ("due", "promised_due"):
            parts.append(QCoreApplication.translate("Words", "due {date}").format(date=value))
        elif key == "legal_due":
            parts.append(QCoreApplication.translate("Words", "legal due {date}").format(date=value))
    return "; ".join(parts)


_SKIPPED = re.compile(r"^(\w+) (recorded after a later stage|recorded without accepted|missing)$")


def _skipped_reason(reason: str) -> str:
    if reason == "completed without decided":
        return QCoreApplication.translate("Words", "completed without a decision")
    m = _SKIPPED.match(reason)
    if m is None:
        return reason
    stage = stage_text(m.group(1))
    if m.group(2) == "missing":
        return QCoreApplication.translate("Words", "{stage} missing").format(stage=stage)
    if m.group(2) == "recorded without accepted":
        return QCoreApplication.translate("Words", "{stage} recorded without acceptance").format(stage=stage)
    return QCoreApplication.translate("Words", "{stage} recorded after a later stage").format(stage=stage)


def reject_text(code: str | None, message: str | None = None) -> str:
    """Why the central server refused an action (``warning_states.rejected_code``)."""
    match code or "":
        case "superseded":
            return QCoreApplication.translate(
                "Words", "another terminal acted first, or the warning rose since")
        case "unknown_warning":
            return QCoreApplication.translate("Words", "the server does not know this warning")
        case "forbidden":
            return QCoreApplication.translate("Words", "outside this terminal's scope")
        case "invalid":
            return QCoreApplication.translate("Words", "the server found the action malformed")
    if message:
        return QCoreApplication.translate("Words", "refused by the server ({code})").format(code=code or "?")
    return str(code or "")


_ALREADY = re.compile(r"is already (acknowledged|disposed)")


def action_error_text(code: str | None, error: str | None) -> str:
    """What an action of the executor came to when it failed (``app.executor.Outcome``)."""
    text = error or ""
    if code == "stopped":
        return QCoreApplication.translate("Words", "the terminal is stopping; the action was not done")
    if code == "rejected":
        m = _ALREADY.search(text)
        if m is not None:
            return QCoreApplication.translate("Words", "the warning is already {state}").format(
                state=state_text(m.group(1)).lower())
        if "not in force" in text:
            return QCoreApplication.translate("Words", "the warning is no longer in force")
        if "needs a note" in text:
            return QCoreApplication.translate("Words", "a disposal needs a note saying what was done")
        if "must be named" in text:
            return QCoreApplication.translate("Words", "the operator's name is missing")
        if "unknown measure" in text:
            return QCoreApplication.translate("Words", "unknown measure")
        return QCoreApplication.translate("Words", "the action does not fit the warning's state")
    return QCoreApplication.translate("Words", "the action failed; the log has the details")
