"""CRM email templates: placeholder syntax checks and the sandboxed rendering (no AWS involved)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.templates import MAX_PLACEHOLDERS, placeholders, render
from parley.errors import BadRequest
from parley.models.crm import MAX_BODY, EmailTemplate


def template(subject: str = "Hello {{firstName}}", html: str | None = "<p>Hi {{firstName}}</p>", text: str | None = "Hi {{firstName}}"):
    return EmailTemplate(
        id="tpl-1",
        tenantId="t-1",
        name="Welcome",
        subject=subject,
        bodyHtml=html,
        bodyText=text,
        type="OFFERTE",
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )


# ───────────── escaping ─────────────
def test_values_are_html_escaped_in_the_html_body_but_not_in_the_text_body():
    out = render(template(), {"firstName": "<script>alert('x')</script> & \"co\""})
    assert out.html == "<p>Hi &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;co&quot;</p>"
    assert out.text == "Hi <script>alert('x')</script> & \"co\""
    assert out.subject == "Hello <script>alert('x')</script> & \"co\""


def test_an_escaped_value_cannot_break_out_of_an_html_attribute():
    tpl = template(subject="Link", html="<a href=\"https://x.example/{{id}}\" title='{{id}}'>go</a>", text=None)
    out = render(tpl, {"id": "\" onclick='evil()"})
    assert out.html == "<a href=\"https://x.example/&quot; onclick=&#x27;evil()\" title='&quot; onclick=&#x27;evil()'>go</a>"


def test_the_result_names_the_template_and_keeps_absent_bodies_absent():
    out = render(template(html=None), {"firstName": "Ada"})
    assert (out.template_id, out.template_name, out.category) == ("tpl-1", "Welcome", "OFFERTE")
    assert out.html is None
    assert out.text == "Hi Ada"
    assert render(template(text=None), {"firstName": "Ada"}).text is None


# ───────────── missing variables ─────────────
def test_a_missing_variable_is_named():
    with pytest.raises(BadRequest) as err:
        render(template(), {})
    assert err.value.message == "missing template variable: firstName"


def test_every_missing_variable_is_named_in_one_message_sorted():
    tpl = template(subject="{{zeta}} {{ a.b }}", html="<p>{{firstName}} {{alpha}}</p>", text="{{alpha}} {{ok}}")
    with pytest.raises(BadRequest) as err:
        render(tpl, {"ok": "yes", "a": {"c": 1}})
    assert err.value.message == "missing template variables: a.b, alpha, firstName, zeta"


def test_unused_variables_are_ignored():
    assert render(template(), {"firstName": "Ada", "unused": [1, 2]}).text == "Hi Ada"


# ───────────── dotted paths ─────────────
def test_dotted_paths_reach_into_nested_objects():
    tpl = template(subject="Quote {{ quote.number }}", html=None, text="{{candidate.name.first}} owes {{quote.amount}}")
    out = render(tpl, {"quote": {"number": "Q-7", "amount": 12.5}, "candidate": {"name": {"first": "Ada"}}})
    assert out.subject == "Quote Q-7"
    assert out.text == "Ada owes 12.5"


def test_an_exact_dotted_key_wins_over_the_nested_path():
    tpl = template(subject="x", html=None, text="{{a.b}}")
    assert render(tpl, {"a.b": "flat", "a": {"b": "nested"}}).text == "flat"
    assert render(tpl, {"a": {"b": "nested"}}).text == "nested"


@pytest.mark.parametrize("variables", [{"a": "text"}, {"a": ["b"]}, {"a": 5}, {"a": None}, {"a": {"c": 1}}])
def test_a_path_goes_only_through_objects_never_attributes_or_indexes(variables):
    with pytest.raises(BadRequest, match=r"missing template variable: a\.b$"):
        render(template(subject="x", html=None, text="{{a.b}}"), variables)


def test_attribute_like_names_are_plain_keys():
    tpl = template(subject="x", html=None, text="{{ a.keys }} {{__class__}} {{a.__dict__}}")
    with pytest.raises(BadRequest) as err:
        render(tpl, {"a": {"x": 1}})
    assert err.value.message == "missing template variables: __class__, a.__dict__, a.keys"
    assert render(tpl, {"a": {"keys": "K", "__dict__": "D"}, "__class__": "C"}).text == "K C D"


# ───────────── single pass, no format(), no template language ─────────────
def test_a_value_that_looks_like_a_placeholder_is_not_rendered_again():
    out = render(template(), {"firstName": "{{secret}} {{firstName}}", "secret": "s3cr3t"})
    assert out.text == "Hi {{secret}} {{firstName}}"
    assert out.html == "<p>Hi {{secret}} {{firstName}}</p>"
    assert "s3cr3t" not in out.subject + out.html + out.text


def test_format_and_template_language_syntax_is_literal_text():
    tpl = template(subject="x", html=None, text="{0.__class__} {firstName} ${firstName} {% if x %} }} {{firstName}}")
    assert render(tpl, {"firstName": "Ada"}).text == "{0.__class__} {firstName} ${firstName} {% if x %} }} Ada"


# ───────────── values ─────────────
@pytest.mark.parametrize(
    ("value", "shown"),
    [("Ada", "Ada"), ("", ""), (None, ""), (True, "true"), (False, "false"), (42, "42"), (-1.5, "-1.5"), (10**20, str(10**20))],
)
def test_scalar_values_become_text(value, shown):
    assert render(template(subject="x", html=None, text="[{{v}}]"), {"v": value}).text == f"[{shown}]"


@pytest.mark.parametrize(("value", "kind"), [([1, 2], "a list"), ({"a": 1}, "an object")])
def test_lists_and_objects_are_refused(value, kind):
    with pytest.raises(BadRequest, match=f"template variable 'v' must be a string, number, boolean or null, not {kind}"):
        render(template(subject="x", html=None, text="{{v}}"), {"v": value})


def test_non_finite_numbers_are_refused():
    with pytest.raises(BadRequest, match="not a finite number"):
        render(template(subject="x", html=None, text="{{v}}"), {"v": float("nan")})


# ───────────── the subject is a header ─────────────
@pytest.mark.parametrize("value", ["a\r\nBcc: victim@example.com", "a\nb", "a\rb", "a\x00b", "a\tb", "a\u2028b", "a\x85b"])
def test_a_control_character_or_line_break_in_a_subject_value_is_refused(value):
    with pytest.raises(BadRequest, match="template variable 'firstName' cannot be used in the subject"):
        render(template(), {"firstName": value})


def test_line_breaks_are_fine_in_the_bodies():
    out = render(template(subject="Hello", html="<pre>{{v}}</pre>", text="{{v}}"), {"v": "line 1\r\nline 2"})
    assert out.text == "line 1\r\nline 2"
    assert out.html == "<pre>line 1\r\nline 2</pre>"


def test_an_empty_rendered_subject_is_refused():
    with pytest.raises(BadRequest, match="the rendered subject is empty"):
        render(template(subject="{{ title }}"), {"title": " ", "firstName": "Ada"})


def test_a_rendered_subject_or_body_over_the_limit_is_refused():
    with pytest.raises(BadRequest, match="the rendered subject is longer than 998 characters"):
        render(template(), {"firstName": "x" * 1000})
    many = template(subject="x", html=None, text="{{v}}" * 10_000)
    with pytest.raises(BadRequest, match=f"the rendered bodyText is longer than {MAX_BODY} characters"):
        render(many, {"v": "y" * 1_000_000})  # stops building at the limit: never 10 GB in memory
    exact = template(subject="x", html=None, text="{{v}}")
    assert len(render(exact, {"v": "y" * MAX_BODY}).text) == MAX_BODY


def test_escaping_counts_towards_the_body_limit():
    with pytest.raises(BadRequest, match="the rendered bodyHtml is longer"):
        render(template(subject="x", html="{{v}}", text=None), {"v": "<" * (MAX_BODY // 2)})


# ───────────── placeholder syntax (checked when a template is saved) ─────────────
def test_placeholders_lists_the_sorted_distinct_names_of_subject_and_bodies():
    assert placeholders("{{ b }} {{a.c}}", "<p>{{b}}{{\n z_1 \n}}</p>", None) == ["a.c", "b", "z_1"]
    assert placeholders("no placeholders", None, "plain }} text { } {x}") == []


@pytest.mark.parametrize(
    ("subject", "html", "text", "message"),
    [
        ("Hi {{name", None, "x", "unclosed placeholder '{{' in subject (line 1, character 4)"),
        ("s", "<p>\n  {{name</p>", None, "unclosed placeholder '{{' in bodyHtml (line 2, character 3)"),
        ("s", None, "a {{}} b", "empty placeholder '{{}}' in bodyText (line 1, character 3)"),
        ("s", None, "{{   }}", "empty placeholder '{{}}' in bodyText"),
        ("s", None, "{{ 1x }}", "invalid placeholder '{{1x}}' in bodyText (line 1, character 1)"),
        ("s", None, "{{a b}}", "invalid placeholder '{{a b}}'"),
        ("s", None, "{{a.}}", "invalid placeholder '{{a.}}'"),
        ("s", None, "{{.a}}", "invalid placeholder '{{.a}}'"),
        ("s", None, "{{a-b}}", "invalid placeholder '{{a-b}}'"),
        ("s", None, "{{{raw}}}", "invalid placeholder '{{{raw}}'"),
        ("s", None, "{{ a {{b}}", "invalid placeholder '{{a {{b}}'"),
        ("s", None, "{{a[0]}}", "invalid placeholder '{{a[0]}}'"),
        ("s", None, "{{ x.__class__() }}", "invalid placeholder"),
        ("s", None, "{{" + "a" * 129 + "}}", "placeholder name longer than 128 characters"),
    ],
)
def test_malformed_placeholders_are_refused_naming_the_problem(subject, html, text, message):
    with pytest.raises(BadRequest) as err:
        placeholders(subject, html, text)
    assert message in err.value.message


def test_a_long_invalid_placeholder_is_shortened_in_the_message():
    with pytest.raises(BadRequest) as err:
        placeholders("s", None, "{{" + "-" * 500 + "}}")
    assert len(err.value.message) < 300


def test_too_many_distinct_placeholders_are_refused():
    names = "".join(f"{{{{v{i}}}}}" for i in range(MAX_PLACEHOLDERS))
    assert len(placeholders("s", names, names)) == MAX_PLACEHOLDERS
    with pytest.raises(BadRequest, match=f"at most {MAX_PLACEHOLDERS} distinct placeholders"):
        placeholders("{{one_more}}", names, None)


def test_render_refuses_a_malformed_stored_template_too():
    with pytest.raises(BadRequest, match="unclosed placeholder"):
        render(template(text="{{oops"), {"firstName": "Ada"})
