"""Free-text search's words and index keys (pure): what a record is found by, and what a search term looks up.

The same functions serve the index (``domain/search_index.py`` writes one token item per key of a record) and
the search (``domain/crm_search.py`` looks keys up, and checks a record it already holds in memory with the very
same keys), so a record is found the same way whichever way a search reaches it (docs/crm.md K-search-10).

- **Words**: the text is NFKD-decomposed, accents (combining marks) dropped, case-folded; a word is a run of
  letters and digits of any script (everything else separates: ``ada.lovelace@example.com`` is ``ada``,
  ``lovelace``, ``example``, ``com``). Only a word's first ``MAX_WORD`` characters count.
- **Keys** of a word: every prefix of ``MIN_PREFIX`` characters or more (``quotes`` → ``quo``, ``quot``, ``quote``,
  ``quotes``); a shorter word is its own only key (``s3``, ``in``). So a search word of 3+ characters finds the
  words it begins, and a shorter one finds only that whole word.
- **A record's text**: subject, sender, recipients, cc, then the body (an HTML body as its visible text: tags,
  attributes, comments, style and script left out). At most ``MAX_KEYS`` distinct keys per record, taken in that
  order: a long body is indexed up to there, and its rest is not found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from parley.domain.rendering import html_to_text, looks_like_html
from parley.models.domain import Message

MIN_PREFIX = 3
MAX_WORD = 24
MAX_KEYS = 1000

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script


def normalise(text: str) -> str:
    """Case and accents folded: ``Ünïcode`` → ``unicode``, ``Straße`` → ``strasse``, ``①`` → ``1``."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


def words(text: str) -> Iterator[str]:
    """The normalised words of ``text``, in order, each cut to ``MAX_WORD`` characters."""
    for match in _WORD.finditer(normalise(text)):
        yield match.group()[:MAX_WORD]


def word_keys(word: str) -> Iterator[str]:
    """The index keys of one (normalised) word: its prefixes from ``MIN_PREFIX`` characters, or the short word."""
    if len(word) < MIN_PREFIX:
        yield word
        return
    for end in range(MIN_PREFIX, len(word) + 1):
        yield word[:end]


def keys_of(texts: Iterable[str], *, cap: int = MAX_KEYS) -> list[str]:
    """The distinct keys of ``texts`` in order of first appearance, at most ``cap``."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            for key in word_keys(word):
                if key not in seen:
                    if len(seen) >= cap:
                        return list(seen)
                    seen[key] = None
    return list(seen)


def term_keys(terms: Iterable[str]) -> list[str]:
    """What search terms look up: one key per distinct word (a record matches when it has every one). A term
    without a letter or digit (``"@"``, ``"-"``) adds none."""
    return list(dict.fromkeys(w for term in terms for w in words(term)))


def visible(body: str) -> str:
    """The body as a reader sees it: HTML reduced to its text."""
    return html_to_text(body) if looks_like_html(body) else body


def head_texts(msg: Message) -> list[str]:
    """The searchable fields of a record that are always in its item (the body may be in S3), in index order."""
    return [msg.subject, msg.sender, *msg.all_recipients, *msg.cc]


def record_keys(msg: Message) -> list[str]:
    """A record's index keys (its body must be loaded if it is kept in S3)."""
    return keys_of([*head_texts(msg), visible(msg.body)])


def head_keys(msg: Message) -> list[str]:
    """The keys of a record's fields other than the body: the first of ``record_keys`` (the body comes last)."""
    return keys_of(head_texts(msg))
