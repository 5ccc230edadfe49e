"""Free-text search's words and keys (domain/search_text.py): what a record is indexed by, what a term looks up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain import search_text as st
from parley.models.domain import Message, MessageStatus


def msg(**kw) -> Message:
    fields = {
        "tenant_id": "t",
        "id": "m-1",
        "channel": "email",
        "direction": "outbound",
        "status": MessageStatus.SENT,
        "source_api": "crm",
        "sender": "no-reply@parley.example",
        "recipient": "ada@example.com",
        "conversation_id": "c",
        "provider": "ses",
        "created_at": datetime(2026, 3, 2, tzinfo=UTC),
    }
    return Message(**{**fields, **kw})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Quote for ACME", ["quote", "for", "acme"]),
        ("ada.lovelace+crm@Example.COM", ["ada", "lovelace", "crm", "example", "com"]),
        ("Crème brûlée, São Paulo, Ærø", ["creme", "brulee", "sao", "paulo", "ærø"]),  # æ and ø are letters, not accents
        ("STRASSE straße", ["strasse", "strasse"]),
        ("snake_case  and\ttabs\nnewlines", ["snake", "case", "and", "tabs", "newlines"]),
        ("\uff46\uff55\uff4c\uff4c \u2460 x\u00b2", ["full", "1", "x2"]),  # fullwidth letters, a circled 1, a superscript
        ("Ελληνικά Кириллица 日本語", ["ελληνικα", "кириллица", "日本語"]),
        ("v2.3-rc1 s3 #42", ["v2", "3", "rc1", "s3", "42"]),
        ("", []),
        ("— … @@ --", []),
    ],
)
def test_words_fold_case_and_accents_and_split_on_everything_but_letters_and_digits(text, words):
    assert list(st.words(text)) == words


def test_a_word_counts_up_to_max_word_characters():
    long = "a" * 40
    assert list(st.words(long)) == ["a" * st.MAX_WORD]


def test_keys_are_prefixes_from_three_characters_and_short_words_whole():
    assert list(st.word_keys("quotes")) == ["quo", "quot", "quote", "quotes"]
    assert list(st.word_keys("quo")) == ["quo"]
    assert list(st.word_keys("in")) == ["in"]
    assert list(st.word_keys("a")) == ["a"]


def test_keys_of_texts_are_distinct_in_order_and_capped():
    assert st.keys_of(["Quote quoted", "QUOTE in"]) == ["quo", "quot", "quote", "quoted", "in"]
    assert st.keys_of(["alpha beta gamma"], cap=4) == ["alp", "alph", "alpha", "bet"]
    assert st.keys_of([]) == []


def test_term_keys_one_per_distinct_word_and_punctuation_only_terms_add_none():
    assert st.term_keys(["Quote", "quote", "NEEDLE-in-s3"]) == ["quote", "needle", "in", "s3"]
    assert st.term_keys(["@", " -- "]) == []
    assert st.term_keys(["x" * 30]) == ["x" * st.MAX_WORD]  # longer words look up their first MAX_WORD characters


def test_a_search_word_finds_the_words_it_begins_and_a_short_one_only_itself():
    keys = set(st.record_keys(msg(subject="Quotes inbox", body="s3 bucket")))
    assert {"quo", "quot", "quote", "quotes"} <= keys and "uote" not in keys
    assert "in" not in keys and "inb" in keys  # "in" is no word here: "inbox" is
    assert "s3" in keys


def test_a_records_text_is_subject_sender_recipients_cc_then_the_visible_body():
    m = msg(
        subject="Offer",
        recipients=["ada@example.com", "bob@corp.example"],
        cc=["boss@acme.example"],
        bcc=["hidden@secret.example"],
        body='<html><head><style>.x{color:red}</style></head><body><p>Hello <a href="https://track.example/t">there</a>'
        "&amp; welcome</p><!-- internal note --></body></html>",
    )
    keys = st.record_keys(m)
    for word in ("offer", "parley", "ada", "bob", "corp", "boss", "acme", "hello", "there", "welcome"):
        assert word in keys, word
    # markup is no text: tag and attribute names, URLs in attributes, comments, style; bcc is not searched
    for word in ("html", "style", "color", "href", "track", "internal", "hidden", "secret"):
        assert word not in keys, word
    assert keys[:3] == ["off", "offe", "offer"]  # the subject first
    assert st.head_keys(m) == keys[: len(st.head_keys(m))]  # the fields but the body: a prefix of the record's keys


def test_recipient_alone_when_recipients_is_empty():
    assert "ada" in st.record_keys(msg(recipients=[]))


def test_a_plain_body_is_taken_as_it_is():
    assert st.visible("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"
    assert "and" in st.record_keys(msg(body="1 < 2 and 3 > 2"))


def test_a_huge_body_is_indexed_up_to_the_cap():
    body = " ".join(f"word{i:06d}" for i in range(10_000))
    keys = st.record_keys(msg(body=body))
    assert len(keys) == st.MAX_KEYS
    assert "word000000" in keys and "word009999" not in keys
