"""British spellings to American ones, word by word, so "summarise" finds "summarize" and
"colour" finds "color". Both backends put indexed text and queries through `americanize`, so the
two spellings become one word before stemming.

Rules for the regular families (-ise/-isation, -yse, -our), a list for the rest, and exceptions
for words that end in -ise in American English too (advise, promise, exercise...).
"""
from __future__ import annotations

import re


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


WORD = re.compile(r"[A-Za-z]+")

# -ise words that are not British -ize words.
ISE_EXCEPTIONS = _set("""
advertise advise arise chastise comprise compromise concise cruise demise despise devise disguise enterprise
excise exercise expertise franchise improvise incise merchandise noise otherwise paradise poise praise precise
premise promise raise reprise revise rise supervise surmise surprise televise treatise wise likewise clockwise
anise expise mortise vise guise bruise noise turquoise tortoise porpoise""")
OUR_WORDS = _set("""
armour behaviour candour clamour colour demeanour endeavour favour fervour flavour harbour honour humour labour
neighbour odour parlour rancour rigour rumour saviour savour splendour succour tumour valour vapour vigour""")
EXPLICIT = {
    "analogue": "analog", "catalogue": "catalog", "catalogued": "cataloged", "dialogue": "dialog",
    "centre": "center", "centres": "centers",
    "centred": "centered", "metre": "meter", "metres": "meters", "litre": "liter", "litres": "liters",
    "theatre": "theater", "fibre": "fiber", "calibre": "caliber", "spectre": "specter", "sombre": "somber",
    "licence": "license", "defence": "defense", "offence": "offense", "pretence": "pretense",
    "programme": "program", "programmes": "programs", "grey": "gray", "judgement": "judgment", "ageing": "aging",
    "travelled": "traveled", "travelling": "traveling", "traveller": "traveler", "modelling": "modeling",
    "modelled": "modeled", "labelled": "labeled", "labelling": "labeling", "cancelled": "canceled",
    "cancelling": "canceling", "enrol": "enroll", "enrolment": "enrollment", "fulfil": "fulfill",
    "fulfilment": "fulfillment", "aluminium": "aluminum", "cheque": "check", "cheques": "checks",
    "favourite": "favorite", "favourites": "favorites", "jewellery": "jewelry", "manoeuvre": "maneuver",
    "oestrogen": "estrogen", "paediatric": "pediatric", "anaesthesia": "anesthesia", "haemoglobin": "hemoglobin",
    "orthopaedic": "orthopedic", "encyclopaedia": "encyclopedia", "plough": "plow", "tyre": "tire", "tyres": "tires",
    "practise": "practice", "practised": "practiced", "practising": "practicing", "sceptical": "skeptical",
    "storey": "story", "whilst": "while", "amongst": "among", "towards": "toward",
}
ISE = re.compile(r"^([a-z]{3,})is(e|es|ed|ing|er|ers|ation|ations|ational)$")
YSE = re.compile(r"^([a-z]{2,}l)ys(e|es|ed|ing|er|ers)$")  # analyse, paralyse, catalyse
OUR = re.compile(r"^([a-z]+)our(s|ed|ing|ful|fully|less|able|ably|ite|ites|ism|ist|ists|al)?$")


def american(word: str) -> str:
    """One lower-case word in American spelling (the word itself when no rule applies)."""
    if word in EXPLICIT:
        return EXPLICIT[word]
    if word.endswith("s") and word[:-1] in EXPLICIT:  # catalogues, litres, tyres
        return EXPLICIT[word[:-1]] + "s"
    match = ISE.match(word)
    if match and f"{match.group(1)}ise" not in ISE_EXCEPTIONS and match.group(1)[-1] not in "aeiouw":
        return f"{match.group(1)}iz{match.group(2)}"
    match = YSE.match(word)
    if match:
        return f"{match.group(1)}yz{match.group(2)}"
    match = OUR.match(word)
    if match and f"{match.group(1)}our" in OUR_WORDS:
        return f"{match.group(1)}or{match.group(2) or ''}"
    return word


def americanize(text: str) -> str:
    """`text` with each British word replaced by its American spelling (case kept only as far
    as search needs: changed words come out lower case)."""
    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        changed = american(word.lower())
        return word if changed == word.lower() else changed

    return WORD.sub(one, text)
