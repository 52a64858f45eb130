/* 12345 agent console: screen-pop, live transcript, ticket draft, transfers.
 * Talks to /ws (events, resume by last event id) and /api (token in the
 * Authorization header). Every value from the server is put on the page
 * with textContent, never as HTML. See docs/web.md for the protocol. */
"use strict";

const MODES = {
  full_merge: "整体并入 Full merge", dual_number: "双号并行 Dual number",
  sub_center: "设分中心 Sub-center", main: "12345 主号 Main", emergency: "紧急 Emergency", unknown: "未知 Unknown",
};
const STATUS = {
  queued: "排队中 Queued", ringing: "振铃 Ringing", answered: "通话中 In call", ended: "已挂断 Ended",
};
const TRANSFER_STATUS = {
  requested: "已发起 requested", ringing: "振铃 ringing", answered: "已接通 answered",
  completed: "已完成 completed", refused: "被拒绝 refused", failed: "失败 failed", cancelled: "已取消 cancelled",
};
const DISPOSITIONS = {
  answered: "已接听", abandoned: "放弃", forwarded: "已转出", announced: "已播报", unanswered: "未接通",
};
// update events after which the call no longer concerns this agent (docs/web.md)
const LEAVE_EVENTS = ["ring_cancelled", "transferred", "agent_left"];
const LIVE_TRANSFER = ["requested", "ringing", "answered"];  // complete / cancel make sense
const TICKET_FIELDS = ["category", "summary", "content", "caller_name", "address"];
const PING_EVERY_MS = 25000;
const SILENCE_LIMIT_MS = 60000;

const state = {
  token: null, options: null, ws: null, lastId: null, retry: 0, lastHeard: 0,
  calls: new Map(),      // call_id -> call state (as in the server's resync)
  selected: null,        // call_id shown in the pop
  ticketDirty: false,    // the agent edited the draft since the last load/save
};

const $ = (id) => document.getElementById(id);
const show = (el, on) => { el.hidden = !on; };
function text(id, value) { $(id).textContent = value === null || value === undefined || value === "" ? "—" : String(value); }
function notice(msg) { $("notice").textContent = msg; }

/* -- token and login ---------------------------------------------------- */
function initialToken() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {  // keep the token out of the address bar and history
    sessionStorage.setItem("hotline-token", fromUrl);
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search);
  }
  return sessionStorage.getItem("hotline-token");
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (resp.status === 401) logout("令牌无效或已过期 Token rejected");
  return { ok: resp.ok, status: resp.status, data };
}

async function login(token) {
  state.token = token;
  const r = await api("GET", "/api/options");
  if (!r.ok) {
    sessionStorage.removeItem("hotline-token");
    $("login-error").textContent = r.status === 401 ? "令牌无效 Invalid token" : "登录失败 Login failed (" + r.status + ")";
    return;
  }
  sessionStorage.setItem("hotline-token", token);
  state.options = r.data;
  $("who").textContent = r.data.agent + (r.data.role === "supervisor" ? " · 班长 Supervisor" : "");
  fillTransferOptions(r.data);
  show($("login"), false); show($("desk"), true); show($("logout"), true);
  connect();
}

function logout(reason) {
  sessionStorage.removeItem("hotline-token");
  state.token = null;
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
  show($("desk"), false); show($("logout"), false); show($("login"), true);
  $("login-error").textContent = reason || "";
  setConn(false);
}

/* -- websocket -------------------------------------------------------------- */
function setConn(on) {
  const el = $("conn");
  el.className = "conn " + (on ? "on" : "off");
  el.textContent = on ? "已连接 Online" : "未连接 Offline";
}

function connect() {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(proto + "//" + window.location.host + "/ws?token=" + encodeURIComponent(state.token));
  state.ws = ws;
  ws.onopen = () => {
    state.retry = 0; state.lastHeard = Date.now(); setConn(true);
    ws.send(JSON.stringify({ type: "resume", last_event_id: state.lastId }));
  };
  ws.onmessage = (msg) => { state.lastHeard = Date.now(); onMessage(JSON.parse(msg.data)); };
  ws.onclose = (ev) => {
    setConn(false);
    if (state.ws !== ws || !state.token) return;
    // 4008: we were too slow; anything else: network. Either way resume.
    const delay = Math.min(10000, 500 * 2 ** state.retry++);
    notice("连接中断，正在重连 Reconnecting… (" + ev.code + ")");
    setTimeout(async () => {
      if (!state.token) return;
      const r = await api("GET", "/api/options");  // a 401 here logs out instead of looping
      if (r.status !== 401) connect();
    }, delay);
  };
}

setInterval(() => {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - state.lastHeard > SILENCE_LIMIT_MS) { ws.close(); return; }
  ws.send(JSON.stringify({ type: "ping" }));
}, PING_EVERY_MS);

function onMessage(msg) {
  if (msg.type === "hello") return;
  if (msg.type === "error") { notice("服务器提示 Server: " + msg.detail); return; }
  if (msg.type === "resync") {
    state.calls = new Map(msg.calls.map((c) => [c.call_id, c]));
    state.lastId = msg.last_event_id;
    if (state.selected && !state.calls.has(state.selected)) state.selected = null;
    render(true);
    return;
  }
  if (msg.type !== "event") return;
  if (state.lastId !== null && msg.id <= state.lastId) return;  // already seen
  state.lastId = msg.id;
  if (msg.kind === "agent_state") {  // seats hook: not a call (seatstate.js, board.js)
    document.dispatchEvent(new CustomEvent("hotline:agent-state", { detail: msg.payload }));
    return;
  }
  applyEvent(msg);
}

function applyEvent(ev) {
  let call = state.calls.get(ev.call_id);
  if (ev.kind === "hangup") {
    if (call) { call.status = "ended"; }
    render(false);
    return;
  }
  const leave = ev.kind === "update" && LEAVE_EVENTS.includes(ev.payload.event);
  if (leave) {  // the call goes on without this agent
    if (!call) return;
    const editing = state.selected === ev.call_id && state.ticketDirty;
    if (ev.payload.event === "ring_cancelled" && call.status !== "answered" && !editing) {
      state.calls.delete(ev.call_id);
      if (state.selected === ev.call_id) state.selected = null;
    } else {
      call.status = "ended";
    }
    render(false);
    return;
  }
  if (ev.kind === "notice") {  // shown, not kept as call state
    notice((ev.payload.level === "warning" ? "⚠ " : "") + (ev.payload.message || ""));
    return;
  }
  if (!call) { call = { call_id: ev.call_id, status: "queued" }; state.calls.set(ev.call_id, call); }
  if (ev.kind === "ring" && call.status !== "answered") call.status = "ringing";
  if (ev.kind === "answer") call.status = "answered";
  const ticketBefore = JSON.stringify(call.ticket || null);
  for (const [key, value] of Object.entries(ev.payload)) {
    if (key === "transcript") {
      const tr = call.transcript || (call.transcript = { final: [], partial: "" });
      if (typeof value.final === "string") { tr.final.push(value.final); tr.partial = ""; }
      if (typeof value.partial === "string") tr.partial = value.partial;
    } else if (key !== "call_id" && key !== "event") {
      call[key] = value;
    }
  }
  const current = state.selected && state.calls.get(state.selected);
  if (!current || (current.status === "ended" && !state.ticketDirty)) {
    state.selected = ev.call_id;  // a new call takes the screen unless one is in progress
  }
  render(JSON.stringify(call.ticket || null) !== ticketBefore);
}

/* -- rendering ----------------------------------------------------------------- */
// seats hook (ringpop.js): the phone's ringing call, matched by call_id
window.hotlineCalls = { has: (id) => state.calls.has(id), selected: () => state.selected, select: (id) => select(id),
                        dirty: () => state.ticketDirty };

function select(callId) {
  if (callId === state.selected) return;
  if (state.ticketDirty && !window.confirm("工单草稿未保存，确定切换？ Discard the unsaved draft?")) return;
  state.ticketDirty = false;
  state.selected = callId;
  render(true);
}

function render(ticketChanged) {
  for (const [id, c] of state.calls) {  // ended calls stay only while on screen (wrap-up)
    if (c.status === "ended" && id !== state.selected) state.calls.delete(id);
  }
  const list = $("call-list");
  list.replaceChildren();
  for (const call of state.calls.values()) {
    const li = document.createElement("li");
    li.className = (call.call_id === state.selected ? "selected " : "") + (call.status || "");
    const who = document.createElement("strong");
    who.textContent = call.caller || "—";
    const what = document.createElement("span");
    what.textContent = (call.line_name || call.dialed || "") + " · " + (STATUS[call.status] || call.status || "");
    li.append(who, what);
    li.onclick = () => select(call.call_id);
    list.append(li);
  }
  show($("no-calls"), state.calls.size === 0);
  const call = state.selected ? state.calls.get(state.selected) : null;
  show($("waiting"), !call); show($("call"), !!call);
  show($("transfer"), !!call);
  show($("ticket"), !!(call && call.ticket && call.ticket.id));
  document.dispatchEvent(new CustomEvent("hotline:rendered"));  // seats hook: ringpop.js
  if (!call) return;
  renderPop(call);
  if (ticketChanged) loadTicket(call.ticket);
  const canTransfer = call.status === "answered";
  for (const b of document.querySelectorAll("#transfer button")) b.disabled = !canTransfer;
  const t = call.transfer;
  const live = !!(t && canTransfer && LIVE_TRANSFER.includes(t.status));
  show($("btn-complete"), live && t.mode !== "blind");
  show($("btn-cancel"), live);
  if (t) {
    $("transfer-status").textContent = "转接 Transfer → " + (t.label || t.target) + " (" + t.mode + "): "
      + (TRANSFER_STATUS[t.status] || t.status) + (t.message ? " — " + t.message : "");
  }
}

function renderPop(call) {
  text("pop-caller", call.caller);
  const badge = $("pop-status");
  badge.textContent = STATUS[call.status] || call.status || "";
  badge.className = "badge " + (call.status || "");
  text("pop-dialed", call.dialed);
  text("pop-line", call.line_name ? call.line_name + (call.line ? " (" + call.line + ")" : "") : call.line);
  text("pop-department", call.department);
  if (window.renderTags) window.renderTags(call);  // fast tracks: fasttrack.js
  text("pop-mode", MODES[call.mode] || call.mode);
  text("pop-queue", call.queue);
  text("pop-wait", call.queue_wait_s === null || call.queue_wait_s === undefined ? null : Math.round(call.queue_wait_s) + " 秒 s");
  const body = $("history");
  body.replaceChildren();
  for (const h of call.history || []) {
    const tr = document.createElement("tr");
    const ticket = h.ticket_id ? h.ticket_id + (h.ticket_summary ? " " + h.ticket_summary : "") : "—";
    for (const v of [(h.at || "").replace("T", " ").slice(0, 16), h.dialed, h.line, DISPOSITIONS[h.disposition] || h.disposition, ticket]) {
      const td = document.createElement("td");
      td.textContent = v || "—";
      tr.append(td);
    }
    body.append(tr);
  }
  show($("no-history"), !(call.history && call.history.length));
  const box = $("transcript");
  box.replaceChildren();
  const tr = call.transcript || { final: [], partial: "" };
  for (const line of tr.final) {
    const p = document.createElement("p");
    p.textContent = line;
    box.append(p);
  }
  if (tr.partial) {
    const p = document.createElement("p");
    p.className = "partial";
    p.textContent = tr.partial;
    box.append(p);
  }
  box.scrollTop = box.scrollHeight;
}

/* -- ticket draft ---------------------------------------------------------------- */
function loadTicket(ticket) {
  if (!ticket || !ticket.id) return;
  if (state.ticketDirty && $("ticket-id").textContent === ticket.id) {
    $("ticket-status").textContent = "草稿有新内容，保存后刷新 Draft changed on the server";
    return;  // never overwrite what the agent is typing
  }
  $("ticket-id").textContent = ticket.id;
  for (const f of TICKET_FIELDS) $("t-" + f).value = ticket[f] || (ticket.extra || {})[f] || "";  // extra: workdesk.js fields
  state.ticketDirty = false;
}

$("ticket").addEventListener("input", () => { state.ticketDirty = true; $("ticket-status").textContent = "未保存 Unsaved"; });
$("ticket").addEventListener("submit", async (e) => {
  e.preventDefault();
  const id = $("ticket-id").textContent;
  const fields = {};
  for (const f of TICKET_FIELDS) fields[f] = $("t-" + f).value;
  $("ticket-status").textContent = "保存中 Saving…";
  const r = await api("PUT", "/api/tickets/" + encodeURIComponent(id), fields);
  if (r.ok) {
    state.ticketDirty = false;
    const call = state.calls.get(state.selected);
    if (call && call.ticket && call.ticket.id === r.data.id) call.ticket = r.data;
    $("ticket-status").textContent = "已保存 Saved " + new Date().toLocaleTimeString();
  } else {
    $("ticket-status").textContent = "保存失败 Not saved: " + ((r.data && r.data.detail) || r.status);
  }
});

/* -- transfers ---------------------------------------------------------------------- */
function fillTransferOptions(opts) {
  const fill = (select, items) => {
    select.replaceChildren();
    for (const it of items) {
      const o = document.createElement("option");
      o.value = it.id; o.textContent = it.name + " (" + it.id + ")";
      select.append(o);
    }
  };
  fill($("x-subcenter"), opts.sub_centers);
  fill($("x-expert"), opts.experts);
  $("btn-subcenter").onclick = () => transfer("subcenter", $("x-subcenter").value);
  $("btn-expert").onclick = () => transfer("expert", $("x-expert").value);
  const box = $("emergency");
  box.replaceChildren();
  for (const e of opts.emergency) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "danger"; b.id = "btn-emergency-" + e.number;
    b.textContent = e.number + " " + e.name;
    b.onclick = () => transfer("emergency", e.number);
    box.append(b);
  }
}

async function transfer(kind, target) {
  const callId = state.selected;
  if (!callId || !target) return;
  const mode = $("x-mode").value;
  $("transfer-status").textContent = "转接中 Transferring → " + target + "…";
  const r = await api("POST", "/api/calls/" + encodeURIComponent(callId) + "/transfer", { kind, target, mode });
  if (r.ok) render(false);  // progress arrives as "transfer" events, possibly before this answer
  else $("transfer-status").textContent = "转接失败 Transfer failed: " + ((r.data && r.data.detail) || r.status);
}

async function transferAction(action) {  // routes of transfer/http.py
  const callId = state.selected;
  if (!callId) return;
  const r = await api("POST", "/api/calls/" + encodeURIComponent(callId) + "/transfer/" + action);
  if (!r.ok) $("transfer-status").textContent = "操作失败 Failed: " + ((r.data && r.data.detail) || r.status);
}
$("btn-complete").addEventListener("click", () => transferAction("complete"));
$("btn-cancel").addEventListener("click", () => transferAction("cancel"));

/* -- start ------------------------------------------------------------------------------ */
$("login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("token").value.trim()); });
$("logout").addEventListener("click", () => logout(""));
const saved = initialToken();
if (saved) login(saved);
