"""The project's own error: one paragraph saying what went wrong and how to fix it; and
printable(), which makes any text (a hostile file name, say) one safe line."""
import unicodedata

INTERRUPTED = "interrupted (Ctrl-C): stopped, nothing half-written"


class MnistError(Exception):
    """An error a user can act on; the command line prints it without a traceback."""


def printable(text: str) -> str:
    """One line of valid text: bytes that were not UTF-8 (surrogate escapes in file names) as
    \\xNN, control characters (newlines, escape sequences) as \\n, \\x1b, \\u2028..."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c
                   for c in text)
