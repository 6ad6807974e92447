#!/usr/bin/env python3
"""Validates a CyberTipline document (<report> or <fileDetails>) against the report XSD.

Used by guardrail-cybertip's schema test (`validate.py FILE.xml` exits 0 when valid, 1
with the validator's message when not, 2 when it cannot run) and by the test server
(`server.py`), which imports `load_schema` and `check_document` so both judge documents
the same way.

The schema is read from the shared reference folder (`../shared/reference/cybertipline/
cybertipline-report.xsd` relative to the repository root), never copied into the repo;
`--xsd PATH` or the environment variable CYBERTIPLINE_XSD points elsewhere.

It must never fetch anything: the parser resolves no entities, loads no DTD and has no
network access, so a document cannot make it read files or URLs.
"""

import argparse
import hashlib
import os
import sys
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_XSD = REPO_ROOT.parent / "shared" / "reference" / "cybertipline" / "cybertipline-report.xsd"

# Documents a client sends; responses are checked by the Rust parser, not here.
REQUEST_ROOTS = ("report", "fileDetails")

# Response codes of the API documentation (appendix D) used for document problems.
MALFORMED_XML = 4110
VALIDATION_FAILED = 4100


def xsd_path(explicit=None):
    """The schema file: the argument, else $CYBERTIPLINE_XSD, else the shared reference."""
    return Path(explicit or os.environ.get("CYBERTIPLINE_XSD") or DEFAULT_XSD)


def schema_sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _safe_parser():
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )


def load_schema(path):
    """Parses the XSD; raises OSError or etree errors naming the file."""
    document = etree.parse(str(path), _safe_parser())
    return etree.XMLSchema(document)


def check_document(schema, data, expected_root=None):
    """Judges one document.

    Returns (None, None, root) when valid, else (code, message, root) with code 4110
    for XML that does not parse and 4100 for XML the schema (or the expected root)
    refuses. `root` is the root element's name, or None when it did not parse.
    """
    try:
        document = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as error:
        return MALFORMED_XML, f"Malformed XML submittal: {error}", None
    root = etree.QName(document).localname
    allowed = (expected_root,) if expected_root else REQUEST_ROOTS
    if root not in allowed:
        return (
            VALIDATION_FAILED,
            f"Validation failed: root element <{root}>, expected <{'> or <'.join(allowed)}>",
            root,
        )
    if schema.validate(document):
        return None, None, root
    problems = "; ".join(
        f"line {entry.line}: {entry.message}" for entry in schema.error_log
    )
    return VALIDATION_FAILED, f"Validation failed: {problems}", root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="XML documents to validate")
    parser.add_argument("--xsd", help=f"schema file (default {DEFAULT_XSD})")
    parser.add_argument("--root", choices=REQUEST_ROOTS, help="require this root element")
    parser.add_argument(
        "--schema-sha256", action="store_true", help="print the schema file's SHA-256 and exit"
    )
    args = parser.parse_args(argv)
    path = xsd_path(args.xsd)
    if args.schema_sha256:
        try:
            print(schema_sha256(path))
        except OSError as error:
            print(f"cannot read schema {path}: {error}", file=sys.stderr)
            return 2
        return 0
    if not args.files:
        parser.error("give at least one FILE.xml")
    try:
        schema = load_schema(path)
    except (OSError, etree.Error) as error:
        print(f"cannot load schema {path}: {error}", file=sys.stderr)
        return 2
    status = 0
    for file in args.files:
        try:
            data = file.read_bytes()
        except OSError as error:
            print(f"cannot read {file}: {error}", file=sys.stderr)
            return 2
        code, message, _root = check_document(schema, data, args.root)
        if code is None:
            print(f"valid: {file}")
        else:
            print(f"invalid: {file}: {message}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
