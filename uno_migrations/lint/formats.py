"""A lint report written out: as text, as SARIF 2.1.0 (for code scanning, which annotates a pull
request with it), or as GitHub Actions workflow commands (``::error file=...::``). The JSON
document is :meth:`~.findings.LintReport.as_dict`. Nothing here prints.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .findings import Finding, LintReport
from .rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _where(finding: Finding) -> str:
    if finding.line is None:
        return finding.path
    return f"{finding.path}:{finding.line}:{finding.column or 1}"


def text_lines(report: LintReport, show_suppressed: bool = False) -> list[str]:
    """Each finding: where, level, rule and message, then the statement's first line and the
    safe way, indented; suppressed findings (with their reason) only when asked."""
    lines = []
    for finding in report.findings:
        if finding.suppressed and not show_suppressed:
            continue
        level = "suppressed" if finding.suppressed else finding.level
        lines.append(f"{_where(finding)}: {level} [{finding.rule}] {finding.message}")
        if finding.statement:
            lines.append(f"    {finding.statement}")
        if finding.suppressed:
            lines.append(f"    because {finding.reason}")
        elif finding.level != "info":
            lines.append(f"    instead: {finding.instead}")
    return lines


def _uri(path: str) -> str:
    """A file as a URI reference relative to the working directory (the repository's root in CI)."""
    relative = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    return quote(Path(relative).as_posix())


def _tool_version() -> str:
    try:
        return version("uno-migrations")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "0"


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.path), "uriBaseId": "%SRCROOT%"}}
    if finding.line is not None:
        region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column or 1}
        if finding.statement:
            region["snippet"] = {"text": finding.statement}
        location["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _SARIF_LEVELS[finding.level],
        "message": {"text": f"{finding.message}. Instead: {finding.instead}"},
        "locations": [{"physicalLocation": location}],
    }
    if finding.suppressed:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.reason or ""}]
    return result


def sarif(report: LintReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: every rule in the tool's driver, a result per finding,
    suppressed ones with their allow comment's reason as the suppression's justification."""
    index = {rule: position for position, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.summary},
            "help": {"text": rule.instead},
            "defaultConfiguration": {"level": _SARIF_LEVELS[rule.level]},
        }
        for rule in RULES.values()
    ]
    driver = {"name": "uno-migrations lint", "version": _tool_version(), "rules": rules}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": [_result(f, index) for f in report.findings]}],
    }


def _escape(text: str, property_value: bool = False) -> str:
    """A workflow command's message (or property value), escaped as the runner reads it."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def github_lines(report: LintReport, show_suppressed: bool = False) -> list[str]:
    """A workflow command per finding (``::error file=F,line=L,col=C,title=T::message``): the
    runner turns each into an annotation on the file's line. Suppressed findings only when
    asked, as notices."""
    lines = []
    for finding in report.findings:
        if finding.suppressed and not show_suppressed:
            continue
        level = "notice" if finding.suppressed else _GITHUB_LEVELS[finding.level]
        properties = [f"file={_escape(finding.path, True)}"]
        if finding.line is not None:
            properties += [f"line={finding.line}", f"col={finding.column or 1}"]
        properties.append(f"title={_escape(f'uno-migrations lint: {finding.rule}', True)}")
        after = f"because {finding.reason}" if finding.suppressed else f"instead: {finding.instead}"
        message = _escape(f"{finding.message}\n{after}")
        lines.append(f"::{level} {','.join(properties)}::{message}")
    return lines
