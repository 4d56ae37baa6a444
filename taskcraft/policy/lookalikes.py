"""Characters that look like others: used to read names the way a person (or an attacker) means.

``skeleton`` maps full-width and other compatibility forms to ASCII (NFKC), drops
invisible formatting characters, maps Cyrillic and Greek letters that look like Latin
ones, and look-alike dashes to ``-``. Only ever used to recognise *danger*: a name that
merely looks like ``rm`` is treated as ``rm`` when deciding whether to deny, never when
deciding whether to allow.
"""

from __future__ import annotations

import unicodedata

_CONFUSABLES = str.maketrans(
    {
        **dict(zip("аеорсухіјѕԁһӏмтквпнАЕОРСУХІЈЅМТКВН", "aeopcyxijsdhlmtkbnhaeopcyxijsmtkbh", strict=True)),
        **dict(zip("αεικνορτυχ", "aeiknoptux", strict=True)),
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
    }
)  # fmt: skip


def skeleton(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return text.translate(_CONFUSABLES)
