"""Turn the LaTeX found in BibTeX field values into plain Unicode text.

Covers what reference exports actually contain: accents in every spelling BibTeX allows
(``{\\"u}``, ``\\"{u}``, ``\\"u``, ``\\c{c}``, ``\\v s``, ``{\\'\\i}``), the letters with
commands of their own (``\\ss``, ``\\o``, ``\\ae``, ``\\l`` ...), escaped specials (``\\&``,
``\\%``, ``\\_``), text-style commands whose argument is kept (``\\emph{in utero}``), Greek
letters and a few math symbols, ``~`` and ``--``/``---`` dashes; then the grouping braces
are dropped. An unknown command is kept as written, so nothing is lost silently.

Why not ``pylatexenc``: it was tried (2.11, via ``bibtexparser``). It drops the apostrophe
in ``O{\\'}Brien``, removes ``%`` comments from titles, and at about a millisecond per title
is the slowest step of a large import; this table-driven pass does what exports need.
"""

from __future__ import annotations

import re

from .normalise import nfc

_ACCENTS = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    "u": "\u0306",
    ".": "\u0307",
    '"': "\u0308",
    "r": "\u030a",
    "H": "\u030b",
    "v": "\u030c",
    "d": "\u0323",
    "c": "\u0327",
    "k": "\u0328",
    "b": "\u0331",
    "t": "\u0361",
}
_LETTERS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "\u0131",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
}
_SYMBOLS = {
    "alpha": "\u03b1",
    "beta": "β",
    "gamma": "\u03b3",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "\u03bd",
    "xi": "ξ",
    "pi": "π",
    "rho": "\u03c1",
    "sigma": "\u03c3",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "pm": "±",
    "times": "×",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "approx": "≈",
    "sim": "\u223c",
    "neq": "≠",
    "infty": "∞",
    "cdot": "·",
    "circ": "°",
    "textdegree": "°",
    "textendash": "–",
    "textemdash": "—",
    "ldots": "…",
    "dots": "…",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textregistered": "®",
    "texttrademark": "™",
    "copyright": "©",
    "S": "§",
    "P": "¶",
    "euro": "€",
    "pounds": "£",
}
_STYLE_COMMANDS = (
    "textit|emph|textbf|textsc|textrm|textsf|texttt|textup|textnormal|textsl|mathrm|"
    "mathit|mathbf|mathsf|mathtt|mathcal|mbox|text|textsuperscript|textsubscript|"
    "uppercase|MakeUppercase|lowercase|MakeLowercase|url|href|ensuremath|bibstring|"
    "NoCaseChange|noopsort"
)

# Placeholders for escaped characters, so that brace and dollar removal cannot touch them.
_ESCAPES = {"{": "\ue000", "}": "\ue001", "$": "\ue002", "&": "&", "%": "%", "#": "#", "_": "_"}
_TILDE = "\ue003"
_RESTORE = {"\ue000": "{", "\ue001": "}", "\ue002": "$", _TILDE: "~"}

_SYMBOL_ACCENT = re.compile(
    r"\\([`'^\"~=.])\s*(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))"
)
_LETTER_ACCENT = re.compile(
    r"\\([uvHckrdbt])(?:\s*\{\s*(\\[ij]|[A-Za-z])\s*\}|\s+(\\[ij](?![A-Za-z])|[A-Za-z]))"
)
_BARE_ACCENT = re.compile(r"\\([`'^\"~=.])(?:\s*\{\s*\}|(?=[\s}]|$))")
_ESCAPED = re.compile(r"\\([{}$&%#_])")
_LETTER = re.compile(
    r"\\(" + "|".join(sorted(_LETTERS, key=len, reverse=True)) + r")(?![A-Za-z])(?:\s*\{\})?\s?"
)
_SYMBOL = re.compile(
    r"\\(" + "|".join(sorted(_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])(?:\s*\{\})?\s?"
)
_STYLE = re.compile(r"\\(?:" + _STYLE_COMMANDS + r")(?![A-Za-z])\s*")
_LINEBREAK = re.compile(r"\\\\|\\newline(?![A-Za-z])|\\par(?![A-Za-z])")
_SPACING = re.compile(r"\\[,;:! ]|\\(?:quad|qquad|enspace|thinspace)(?![A-Za-z])")
_SPACES = re.compile(r"\s+")

_BARE_ACCENT_CHARS = {"'": "'", "`": "`", "^": "^", "~": _TILDE, '"': '"', "=": "=", ".": "."}


def _accent(match: re.Match[str]) -> str:
    command = match.group(1)
    base = match.group(2) or match.group(3) or ""
    if base in ("\\i", "\\j"):
        base = base[1]
    return base + _ACCENTS[command]


def latex_to_text(value: str, *, dashes: bool = True) -> str:
    """Plain text for a BibTeX field value (see the module docstring).

    ``dashes=False`` leaves ``--`` alone (page ranges are handled by the page normaliser).
    """
    if "\\" not in value:
        text = value.replace("~", " ").replace("{", "").replace("}", "").replace("$", "")
    else:
        text = _ESCAPED.sub(lambda m: _ESCAPES[m.group(1)], value)
        text = text.replace("\\~{}", _TILDE).replace("\\textasciitilde", _TILDE)
        text = _SYMBOL_ACCENT.sub(_accent, text)
        text = _BARE_ACCENT.sub(lambda m: _BARE_ACCENT_CHARS[m.group(1)], text)
        text = _LETTER_ACCENT.sub(_accent, text)
        text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
        text = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(1)], text)
        text = _STYLE.sub("", text)
        text = _LINEBREAK.sub(" ", text)
        text = _SPACING.sub(" ", text)
        text = text.replace("~", " ").replace("{", "").replace("}", "").replace("$", "")
        for placeholder, char in _RESTORE.items():
            text = text.replace(placeholder, char)
    if dashes:
        text = text.replace("---", "\u2014").replace("--", "\u2013")
    return nfc(_SPACES.sub(" ", text).strip())


def unescape_identifier(value: str) -> str:
    """A DOI or URL from BibTeX: only escapes and braces removed (``10.1000/a\\_b``)."""
    text = _ESCAPED.sub(lambda m: _ESCAPES[m.group(1)], value)
    text = text.replace("\\~{}", "~").replace("\\textasciitilde", "~")
    text = text.replace("{", "").replace("}", "")
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text.strip()
