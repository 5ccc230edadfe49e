// Parley local console: plain DOM, no framework. Everything from the server is untrusted (emails are hostile
// input): text goes in with textContent only; an email body is rendered only inside a sandboxed iframe
// (sandbox without allow-scripts or allow-same-origin) through srcdoc, under a CSP that blocks every load.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2500;
const FRAME_CSP = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:\">";
const FRAME_STYLE = "<style>body{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#1d2330}</style>";
let selectedEmail = null;
let lastState = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(path, options) {
  const res = await fetch(path, options);
  const text = await res.text();
  let data;
  try { data = JSON.parse(text); } catch { data = { message: text }; }
  if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { data, status: res.status });
  return data;
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

function fill(list, items, render, emptyText) {
  list.replaceChildren(...(items.length ? items.map(render) : [el("li", { class: "empty" }, emptyText)]));
}

function tenantName(id) {
  const t = (lastState?.tenants || []).find((x) => x.tenantId === id);
  return t ? t.name : id ? id.slice(0, 8) + "…" : "unknown tenant";
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

// ── rendering the state ──
function renderTenants(tenants) {
  fill($("tenants"), [...tenants].reverse(), (t) => {
    const s = t.settings || {};
    const badges = [
      el("span", { class: "badge" }, "email: " + (s.email_provider || "ses")),
      el("span", { class: "badge" }, "sms: " + (s.sms_provider || "sns")),
      s.secret_name ? el("span", { class: "badge info" }, "credentials secret") : null,
      s.webhook_public_key ? el("span", { class: "badge info" }, "signed events") : null,
      s.quiet_hours ? el("span", { class: "badge" }, "quiet hours") : null,
    ];
    const copy = el("button", { class: "small", type: "button", onclick: () => navigator.clipboard?.writeText(t.apiKey) }, "copy");
    return el("li", { "data-tenant": t.tenantId },
      el("div", { class: "line1" }, el("b", {}, t.name || "(no name)"), el("span", { class: "sub" }, time(t.createdAt))),
      el("div", { class: "sub" }, "tenant ", el("code", {}, t.tenantId), " · from ", t.senderEmail || s.sender_email || ""),
      el("div", {}, el("span", { class: "key" }, t.apiKey), " ", copy),
      el("div", { class: "sub" }, badges, t.createdBy ? "made by " + t.createdBy : ""));
  }, "no tenants made in this run yet");
  const select = $("sms-tenant");
  const keep = select.value;
  select.replaceChildren(...[...tenants].reverse().map((t) => el("option", { value: t.tenantId }, `${t.name} (${t.tenantId.slice(0, 8)}…)`)));
  if (keep && tenants.some((t) => t.tenantId === keep)) select.value = keep;
}

function renderScheduled(items) {
  fill($("scheduled"), items, (s) => el("li", {},
    el("div", { class: "line1" }, el("b", {}, s.subject || s.channel || s.name), el("span", { class: "badge info" }, "due " + new Date(s.due).toLocaleString())),
    el("div", { class: "sub" }, [s.channel, s.to ? "to " + s.to : null, s.status, s.timezone ? "(" + s.timezone + ")" : null, tenantName(s.tenantId)].filter(Boolean).join(" · "))),
  "nothing scheduled");
}

function renderEmails(emails, total) {
  $("email-count").textContent = total > emails.length ? `newest ${emails.length} of ${total}` : `${total}`;
  fill($("emails"), emails, (m) => el("li", {
    "data-id": m.id, class: m.id === selectedEmail ? "selected" : "", onclick: () => selectEmail(m.id),
  },
  el("div", { class: "line1" }, el("b", {}, m.subject || "(no subject)"), el("span", { class: "sub" }, tenantName(m.tenantId))),
  el("div", { class: "sub" }, "to " + (m.to || []).join(", ") + " · from " + m.from)),
  "no email sent yet: send one with the API (the README's curl line), then it shows here");
}

function renderSms(items, total) {
  $("sms-count").textContent = String(total);
  fill($("sms"), items, (s) => el("li", { "data-sms": s.id },
    el("div", { class: "line1" }, el("b", {}, "to " + s.to), el("span", { class: "sub" }, tenantName(s.tenantId))),
    el("div", {}, s.message),
    s.tenantId ? el("div", { class: "row" },
      el("button", { class: "small", type: "button", onclick: () => simulate("sms", { smsId: s.id, text: $("sms-text").value }) }, "reply"),
      el("button", { class: "small warn", type: "button", onclick: () => simulate("stop", { smsId: s.id }) }, "STOP")) : null),
  "no SMS sent yet");
}

function renderPush(items, total) {
  $("push-count").textContent = String(total);
  fill($("push"), items, (p) => el("li", {},
    el("div", { class: "line1" }, el("b", {}, p.platform), el("span", { class: "sub" }, "device " + (p.deviceId || "?"))),
    el("pre", {}, JSON.stringify(p.message, null, 1))),
  "no push sent yet");
}

function renderWebhooks(hooks) {
  fill($("webhooks"), hooks, (h) => {
    const ok = h.status >= 200 && h.status < 300;
    return el("li", {},
      el("div", { class: "line1" }, el("span", {}, el("span", { class: "badge " + (ok ? "ok" : "bad") }, h.status), " ", el("b", {}, h.method), " ", el("code", {}, h.path)),
        el("span", { class: "sub" }, time(h.at) + " · " + h.ms + " ms")),
      el("details", {}, el("summary", { class: "sub" }, `${h.size} bytes` + (h.truncated ? " (cut)" : "")),
        el("pre", {}, Object.entries(h.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n\n" + h.body + "\n\n→ " + h.response)));
  }, "no webhook received yet");
}

async function refresh() {
  try {
    const state = await api("/_local/console/state");
    lastState = state;
    renderTenants(state.tenants);
    renderScheduled(state.scheduled);
    renderEmails(state.emails, state.emailCount);
    renderSms(state.sms, state.smsCount);
    renderPush(state.push || [], state.pushCount || 0);
    renderWebhooks(state.webhooks);
    $("status-line").textContent = `${state.api} · updated ${time(state.now)}`;
  } catch (err) {
    $("status-line").textContent = "the stack does not answer: " + err.message;
  }
}

// ── one email ──
async function selectEmail(id) {
  selectedEmail = id;
  for (const li of $("emails").children) li.classList.toggle("selected", li.dataset.id === id);
  let m;
  try {
    m = await api("/_local/console/email?id=" + encodeURIComponent(id));
  } catch (err) {
    showResult({ ok: false, message: err.message });
    return;
  }
  $("email-detail").hidden = false;
  $("detail-subject").textContent = m.headers.Subject || "(no subject)";
  $("detail-headers").replaceChildren(...Object.entries(m.headers).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  const r = m.record;
  $("detail-record").textContent = r
    ? `Parley message ${r.id} · ${r.status}` + (r.deliveryStatus ? ` · delivery ${r.deliveryStatus}` : "") + (r.error ? ` · ${r.error}` : "") + ` · ${tenantName(m.tenantId)} · via ${r.sourceApi} API`
    : "no Parley record found for this email (its tenant's key was not made in this run)";
  const body = m.body || m.raw || "";
  const looksHtml = /<[a-z!][\s\S]*>/i.test(body);
  const frame = $("detail-body");
  frame.setAttribute("sandbox", ""); // no scripts, no same-origin, no forms, no popups
  const doc = FRAME_CSP + FRAME_STYLE + (looksHtml ? body : "<pre style='white-space:pre-wrap;font:13px monospace'>" + escapeHtml(body) + "</pre>");
  if (frame.srcdoc !== doc) frame.srcdoc = doc; // the poll re-reads the detail: repaint the frame only when it changed
  fill($("detail-conversation"), m.conversation || [], (c) => el("li", { "data-message": c.id },
    el("div", { class: "line1" }, el("b", {}, (c.direction === "inbound" ? "← " : "→ ") + c.from), el("span", { class: "sub" }, new Date(c.at).toLocaleString())),
    el("div", { class: "sub" }, c.subject),
    el("div", { class: "text" }, c.text)), "no reply yet");
  const attachments = (r && r.attachments) || [];
  fill($("detail-attachments"), attachments, (a) => el("li", {}, `${a.filename || "(unnamed)"} · ${a.contentType || ""} · ${a.size ?? "?"} bytes`), "none");
  const usable = Boolean(m.tenantId && r);
  $("btn-reply").disabled = !usable;
  $("btn-bounce").disabled = !usable;
  $("btn-bounce-ses").disabled = !usable;
}

// ── the outside world ──
function showResult(out) {
  const lines = [];
  if (out.what) lines.push(out.what);
  if (out.request) lines.push(`${out.request.method} ${out.request.url} → ${out.status}`);
  for (const c of out.configured || []) lines.push("configured: " + c);
  if (out.response) lines.push(out.response);
  if (out.message) lines.push(out.message);
  const pre = $("sim-result");
  pre.textContent = lines.join("\n");
  pre.className = out.ok ? "" : "muted";
  pre.dataset.ok = out.ok ? "true" : "false";
}

async function simulate(kind, body) {
  const buttons = document.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  $("sim-result").textContent = `${kind}: sending…`;
  $("sim-result").dataset.ok = "pending";
  try {
    showResult(await postJson("/_local/simulate/" + kind, body));
  } catch (err) {
    showResult({ ok: false, message: `${kind}: ${err.message}` });
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    await refresh();
    if (selectedEmail) await selectEmail(selectedEmail);
  }
}

$("btn-reply").addEventListener("click", () => simulate("reply", { emailId: selectedEmail, text: $("reply-text").value }));
$("btn-bounce").addEventListener("click", () => simulate("bounce", { emailId: selectedEmail }));
$("btn-bounce-ses").addEventListener("click", () => simulate("bounce", { emailId: selectedEmail, via: "ses" }));
$("sms-form").addEventListener("submit", (e) => {
  e.preventDefault();
  simulate("sms", { tenantId: $("sms-tenant").value, from: $("sms-from").value, text: $("sms-text").value });
});
$("btn-stop").addEventListener("click", () => simulate("stop", { tenantId: $("sms-tenant").value, from: $("sms-from").value }));
$("new-tenant").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const t = await postJson("/_local/tenants", { name: $("new-tenant-name").value });
    showResult({ ok: true, what: `tenant ${t.name} created: ${t.tenantId}`, message: "API key " + t.apiKey });
    $("new-tenant-name").value = "";
  } catch (err) {
    showResult({ ok: false, message: err.message });
  }
  await refresh();
});

refresh();
// Webhooks are applied asynchronously (a reply, a STOP or a bounce lands a moment after the provider's request is
// answered): the poll re-reads the open email too, so its conversation and delivery state catch up by themselves.
setInterval(async () => {
  if (document.hidden) return;
  await refresh();
  if (selectedEmail) await selectEmail(selectedEmail);
}, POLL_MS);
