"""Oracle for scripts/compare_decoding.ts: Python's `email` package with policy.default.

Reads message file paths on standard input, one a line, and prints one JSON line per
message: {"file", "subject", "from", "to", "date", "body_text", "unclean"}. A field the
package could not produce cleanly (an exception, U+FFFD or undecodable bytes in the value)
is listed in "unclean", so the comparison skips it instead of counting a disagreement.
body_text is read from the text/plain body only: the package does not turn HTML into text,
so for an HTML-only message it is null.
"""

import email
import json
import sys
from datetime import timezone
from email import policy


def clean(value):
    return "\ufffd" not in value and not any(0xDC80 <= ord(c) <= 0xDCFF for c in value)


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return []
    return [a.addr_spec for a in header.addresses if a.username or a.domain]


def date_of(msg):
    header = msg["date"]
    if header is None or header.datetime is None:
        return None
    moment = header.datetime
    if moment.tzinfo is None:  # "-0000": no zone information, read as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def body_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        part = msg.get_body(preferencelist=("html",))
        return None if part is not None else ""
    return part.get_content()


def read(path):
    with open(path, "rb") as handle:
        msg = email.message_from_binary_file(handle, policy=policy.default)
    out = {"file": path, "unclean": []}
    readers = {
        "subject": lambda: None if msg["subject"] is None else str(msg["subject"]),
        "from": lambda: (addresses(msg, "from") or [None])[0],
        "to": lambda: addresses(msg, "to"),
        "date": lambda: date_of(msg),
        "body_text": lambda: body_of(msg),
    }
    for field, reader in readers.items():
        try:
            value = reader()
        except Exception:  # noqa: BLE001 - any failure means "no clean value"
            out[field] = None
            out["unclean"].append(field)
            continue
        out[field] = value
        texts = value if isinstance(value, list) else [value] if value is not None else []
        if field == "body_text" and value is None:
            out["unclean"].append(field)
        elif not all(clean(text) for text in texts):
            out["unclean"].append(field)
    return out


def main():
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            result = read(path)
        except Exception as error:  # noqa: BLE001
            result = {"file": path, "error": str(error), "unclean": ["subject", "from", "to", "date", "body_text"]}
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
