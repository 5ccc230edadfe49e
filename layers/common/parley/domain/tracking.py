"""Open and click tracking of outbound CRM email: instrumenting the HTML, and recording opens and clicks.

Sending (``prepare`` + ``register``): a record with ``trackingEnabled`` or ``linkTrackingEnabled`` gets a
fresh unguessable token (``secrets.token_urlsafe(16)``: 128 random bits), separate from its id, which is
the only thing the public URLs carry:
- pixel ``{base}/api/v1/communications/track/{token}``: a hidden 1x1 image before ``</body>``;
- links ``{base}/api/v1/communications/link/{token}/{i}``: the i-th rewritten ``<a href>`` (0-based).
Only absolute http(s) hrefs of ``<a>`` tags are rewritten; mailto:, tel:, #anchors, relative URLs and any
other scheme (javascript:, data:, …) stay as written. A plain-text body with tracking on becomes minimal
HTML (escaped text, ``<br>`` line breaks, bare http(s) URLs linked) so it can carry the pixel and links;
its text/plain alternative stays the text exactly as submitted (``body_text``).

Recording (``open_pixel``, ``click``): the token finds the record (no credentials in the request);
opens and clicks are counted only for a SENT record, each in one conditional update, and the analytics
counters (dal/counters.py) get "opened" on the record's first open and "clicked" on its first click,
on the UTC day the record was sent, by whichever request made that first change.
"""

from __future__ import annotations

import html
import re
import secrets
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from parley import clock
from parley.dal import counters, messages
from parley.dal import tracking as store
from parley.domain.rendering import looks_like_html
from parley.errors import NotFound
from parley.models.domain import Message, MessageStatus, TrackedLink

TRACK_PATH = "/api/v1/communications/track/"
LINK_PATH = "/api/v1/communications/link/"

# 1x1 transparent GIF (GIF89a, one transparent pixel): 43 bytes.
PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate, private, max-age=0", "Pragma": "no-cache", "Expires": "0"}

MAX_LINKS = 100  # links rewritten per email; later ones stay untracked
MAX_URL = 2048  # longer hrefs stay untracked
MAX_URL_TOTAL = 32 * 1024  # characters of original URLs kept in the record item (DynamoDB's 400 KB item limit)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_INDEX = re.compile(r"^(0|[1-9][0-9]{0,5})$")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def pixel_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{TRACK_PATH}{token}"


def link_url(base_url: str, token: str, index: int) -> str:
    return f"{base_url.rstrip('/')}{LINK_PATH}{token}/{index}"


# ───────────── instrumenting ─────────────
def prepare(msg: Message, base_url: str) -> Message:
    """The message as it is stored and sent: with tracking on, a new token, the submitted body in
    ``original_body`` and the instrumented HTML in ``body`` (pixel when ``tracking_enabled``, rewritten
    links, listed in ``links`` in order, when ``link_tracking_enabled``). Without, ``original_body = body``."""
    if not (msg.tracking_enabled or msg.link_tracking_enabled):
        return msg.model_copy(update={"original_body": msg.body})
    token = new_token()
    submitted = msg.body
    update: dict = {"track_token": token, "original_body": submitted}
    source = submitted
    if not looks_like_html(submitted):
        source = text_to_html(submitted)
        if msg.body_text is None:
            update["body_text"] = submitted
    links: list[TrackedLink] = []
    body = source
    if msg.link_tracking_enabled:
        body, links = rewrite_links(body, base_url, token)
    if msg.tracking_enabled:
        body = add_pixel(body, pixel_url(base_url, token))
    update |= {"body": body, "links": links}
    return msg.model_copy(update=update)


def register(msg: Message) -> None:
    """Store the token → (tenant, message id) lookup; no-op without a token."""
    if msg.track_token:
        store.put(msg.track_token, msg.tenant_id, msg.id)


def register_op(msg: Message) -> dict | None:
    """The same write for a transaction with the record's own writes (None without a token)."""
    return store.put_op(msg.track_token, msg.tenant_id, msg.id) if msg.track_token else None


_BARE_URL = re.compile(r"https?://[^\s<>\"']+", re.I)
_TRAILING = ".,;:!?)]}'\""


def _trim(url: str) -> str:
    """A bare URL without the punctuation that ends the sentence around it (a ")" closing a "(" stays)."""
    while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
        url = url[:-1]
    return url


def text_to_html(text: str) -> str:
    """Plain text as minimal HTML: escaped, line breaks kept as ``<br>``, bare http(s) URLs linked."""
    out: list[str] = []
    pos = 0
    for m in _BARE_URL.finditer(text):
        url = _trim(m.group(0))
        out.append(html.escape(text[pos : m.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        pos = m.start() + len(url)
    out.append(html.escape(text[pos:]))
    escaped = "".join(out).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\n")
    return f"<html><body><div>{escaped}</div></body></html>"


_BODY_END = re.compile(r"</body\s*>", re.I)
_HTML_END = re.compile(r"</html\s*>", re.I)


def add_pixel(body: str, url: str) -> str:
    """The hidden 1x1 image, just before the last ``</body>`` (else ``</html>``, else at the end)."""
    img = f'<img src="{html.escape(url)}" width="1" height="1" alt="" style="display:none">'
    for pattern in (_BODY_END, _HTML_END):
        ends = list(pattern.finditer(body))
        if ends:
            at = ends[-1].start()
            return body[:at] + img + body[at:]
    return body + img


_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))


def trackable(href: str | None) -> str | None:
    """The URL a click on ``href`` would open, if it is an absolute http(s) URL we may redirect to."""
    if href is None:
        return None
    # As browsers read an href: surrounding spaces/controls dropped, tabs and newlines removed.
    url = re.sub(r"[\t\n\r]", "", href.strip(_C0_AND_SPACE))
    if not url or len(url) > MAX_URL or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


# html.parser's own attribute grammar (Python 3.13), to find where in a start tag its href value sits.
_TAG_NAME = re.compile(r"([a-zA-Z][^\t\n\r\f />\x00]*)(?:\s|/(?!>))*")
_ATTR = re.compile(r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|\"[^\"]*\"|(?![\'\"])[^>\s]*))?(?:\s|/(?!>))*")


def _href_span(tag_text: str) -> tuple[int, int, str] | None:
    """(start, end, unescaped value) of the first href attribute's value in a raw ``<a …>`` tag."""
    m = _TAG_NAME.match(tag_text, 1)
    if not m:
        return None
    k = m.end()
    while k < len(tag_text):
        a = _ATTR.match(tag_text, k)
        if not a or a.end() == k:
            return None
        if a.group(1).lower() == "href":
            if not a.group(2):
                return None
            raw = a.group(3)
            value = raw[1:-1] if raw[:1] in ("'", '"') and raw[:1] == raw[-1:] and len(raw) >= 2 else raw
            return a.start(3), a.end(3), html.unescape(value)
        k = a.end()
    return None


class _Anchors(HTMLParser):
    """The start tags of ``<a>`` elements with an href, at their offsets in the source (not in comments,
    scripts or styles, which the parser does not report as tags)."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self.line_starts.append(i + 1)
        self.found: list[tuple[int, str, str]] = []  # (offset of "<a", raw tag text, first href value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        href = next((v for k, v in attrs if k == "href"), None)
        text = self.get_starttag_text()
        if href is None or not text:
            return
        line, col = self.getpos()
        self.found.append((self.line_starts[line - 1] + col, text, href))


def rewrite_links(body: str, base_url: str, token: str) -> tuple[str, list[TrackedLink]]:
    """Every trackable ``<a href>`` pointed at the click redirect, in order; anything the parser and the
    source disagree about, or beyond the limits, is left as written (untracked, never broken)."""
    parser = _Anchors(body)
    try:
        parser.feed(body)
        parser.close()
    except Exception:  # html.parser is lenient; a parser bug must not stop a send
        return body, []
    ours = base_url.rstrip("/") + LINK_PATH
    out: list[str] = []
    links: list[TrackedLink] = []
    pos = 0
    budget = MAX_URL_TOTAL
    for offset, text, href in parser.found:
        if len(links) >= MAX_LINKS:
            break
        url = trackable(href)
        if url is None or url.startswith(ours) or len(url) > budget or body[offset : offset + len(text)] != text:
            continue
        span = _href_span(text)
        if span is None or span[2] != href:
            continue
        tracking = link_url(base_url, token, len(links))
        start, end = offset + span[0], offset + span[1]
        out.append(body[pos:start])
        out.append('"' + html.escape(tracking, quote=True) + '"')
        pos = end
        budget -= len(url)
        links.append(TrackedLink(url=tracking, original_url=url))
    out.append(body[pos:])
    return "".join(out), links


# ───────────── recording ─────────────
def _ref(token: str) -> store.TrackRef:
    ref = store.lookup(token) if _TOKEN.match(token or "") else None
    if ref is None:
        raise NotFound("no such tracking id")
    return ref


def _count(recorded: store.Recorded, counter: str) -> None:
    """Bump an analytics counter for the record in ``recorded.old``, on the UTC day it was sent."""
    msg = messages.from_item(recorded.old or {}, load_body=False)
    if not messages.is_record(msg):
        return
    day = clock.iso(msg.sent_at or clock.now())[:10]
    counters.bump(msg.tenant_id, day, counter, category=msg.category, template_id=msg.template_id, template_name=msg.template_name)


def open_pixel(token: str) -> bool:
    """GET /track/{token}: record one open. Unknown token (or a deleted record) → NotFound. A record
    that is not SENT (queued, failed, cancelled) is not counted. True when the open was counted."""
    ref = _ref(token)
    recorded = store.record_open(ref.tenant_id, ref.message_id, clock.now())
    if not recorded.counted:
        if messages.get(ref.tenant_id, ref.message_id, load_body=False) is None:
            raise NotFound("no such tracking id")
        return False
    if recorded.first_open:
        _count(recorded, "opened")
    return True


def parse_index(raw: str) -> int | None:
    return int(raw) if _INDEX.match(raw or "") else None


def click(token: str, raw_index: str) -> str:
    """GET /link/{token}/{index}: record one click and return where to redirect: the stored original URL
    of that link, nothing else. Unknown token, deleted record, bad or out-of-range index → NotFound.
    A click on a never-opened record also records its open (the image may have been blocked)."""
    index = parse_index(raw_index)
    if index is None:
        raise NotFound("no such link")
    ref = _ref(token)
    msg = messages.get(ref.tenant_id, ref.message_id, load_body=False)
    if msg is None or index >= len(msg.links):
        raise NotFound("no such link")
    url = trackable(msg.links[index].original_url)
    if url is None:
        raise NotFound("no such link")
    if msg.status == MessageStatus.SENT:
        recorded = store.record_click(ref.tenant_id, ref.message_id, index, clock.now(), maybe_first_open=msg.opened_at is None)
        if recorded.first_open:
            _count(recorded, "opened")
        if recorded.first_click:
            _count(recorded, "clicked")
    return location(url)


def location(url: str) -> str:
    """``url`` as a Location header value: a well-formed URL unchanged; characters a URL may not hold
    (spaces, quotes, non-ASCII, …) percent-encoded as a browser would, so the header is always plain ASCII."""
    return quote(url, safe="!#$%&'()*+,-./:;=?@[]_~")
