/* 通话录音 in the console: a player for the recordings the signed-in person may hear.
 *
 * An <audio> element cannot send the Authorization header, so each ▶ asks the server,
 * with the token, for a short-lived signed URL (POST /api/recordings/{id}/play-url,
 * audited) and plays that; the browser seeks with Range requests on the same URL.
 * When the URL has expired (a seek minutes later) the player asks for a new one and
 * goes on from where it was.
 * Where: a 通话录音 card (an agent's own recordings, a supervisor's all, GET /api/recordings),
 * a ▶ 录音 button on the 本班通话 rows that have a recording (workdesk.js marks rows with
 * data-call), and for supervisors the 质检 scores (GET /api/qa) whose evidence buttons
 * jump the player to that second.
 */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const byCall = new Map();  // call id -> recording row (for the 本班通话 buttons)
  const player = { rec: null, label: "", renewing: false, granted: 0 };

  function token() { return sessionStorage.getItem("hotline-token"); }

  async function get(path) {
    const resp = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
    return resp.ok ? resp.json() : null;
  }

  function fmt(s) {
    s = Math.max(0, Math.round(s || 0));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function button(text, onClick, cls) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "quiet rec-play" + (cls ? " " + cls : ""); b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function build() {
    const card = document.createElement("section");
    card.id = "recordings";
    card.className = "card recordings";
    card.innerHTML = `<h2>通话录音 <small>Recordings</small></h2>
      <div class="rec-player"><audio id="rec-audio" controls preload="metadata"></audio>
      <p id="rec-now" class="muted" role="status">选择一条录音播放 Pick a recording</p></div>
      <table class="history"><thead><tr><th>时间 At</th><th>时长 Length</th><th>坐席 Agent</th><th></th></tr></thead>
      <tbody id="rec-rows"></tbody></table><p id="no-rec" class="muted">暂无录音 No recordings</p>
      <div id="rec-qa" hidden><h3>质检 <small>QA</small></h3><ul id="rec-qa-list" class="rec-qa"></ul></div>`;
    document.querySelector("#desk .side").append(card);
    $("rec-audio").addEventListener("error", renew);
  }

  /* Play recording `id` from second `at`: a fresh signed URL each time. */
  async function play(id, at, label) {
    const resp = await fetch(`/api/recordings/${encodeURIComponent(id)}/play-url`,
                             { method: "POST", headers: { Authorization: "Bearer " + token() } });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      $("rec-now").textContent = "无法播放 Cannot play: " + (data.detail || resp.status);
      return;
    }
    player.rec = id; player.label = label || player.label; player.granted = Date.now();
    const audio = $("rec-audio");
    audio.src = data.url;
    $("rec-now").textContent = "正在播放 Playing: " + player.label + (at ? " · " + fmt(at) : "");
    const start = () => {
      if (at) audio.currentTime = at;
      audio.play().catch(() => {});  // autoplay refused: the controls are there
    };
    if (audio.readyState >= 1) start(); else audio.addEventListener("loadedmetadata", start, { once: true });
  }

  /* The signed URL expired (or the server restarted): a new one, same place. */
  async function renew() {
    const audio = $("rec-audio");
    if (player.rec === null || player.renewing || !audio.getAttribute("src")) return;
    if (Date.now() - player.granted < 5000) {  // a fresh URL failed: not an expiry, do not loop
      $("rec-now").textContent = "无法播放 Cannot play: " + player.label;
      return;
    }
    player.renewing = true;
    try { await play(player.rec, audio.currentTime, player.label); } finally { player.renewing = false; }
  }

  async function load() {
    if (!token() || $("desk").hidden) return;
    const data = await get("/api/recordings");
    if (!data) return;
    byCall.clear();
    const body = $("rec-rows");
    body.replaceChildren();
    for (const r of data.recordings.slice(0, 20)) {
      if (r.status === "deleted") continue;
      byCall.set(r.call_id, r);
      const tr = document.createElement("tr");
      tr.dataset.rec = r.id;
      const at = r.started_at ? new Date(r.started_at).toLocaleString("zh-CN", { hour12: false }) : "—";
      for (const v of [at, fmt(r.duration), (r.agents || []).join(", ") || "—"]) {
        const td = document.createElement("td"); td.textContent = v; tr.append(td);
      }
      const td = document.createElement("td");
      td.append(button("▶ 录音", () => play(r.id, 0, at)));
      tr.append(td);
      body.append(tr);
    }
    $("no-rec").hidden = body.children.length > 0;
    body.dataset.loaded = "1";
    markShift();
    loadQa();
  }

  /* ▶ 录音 on the 本班通话 rows whose call has a recording. */
  function markShift() {
    for (const tr of document.querySelectorAll("#shift-rows tr[data-call]")) {
      const r = byCall.get(tr.dataset.call);
      if (!r || tr.querySelector(".rec-play")) continue;
      const td = document.createElement("td");
      td.append(button("▶ 录音", () => play(r.id, 0, tr.firstChild.textContent)));
      tr.append(td);
    }
  }

  async function loadQa() {
    if (!(typeof state !== "undefined" && state.options && state.options.role === "supervisor")) return;
    const data = await get("/api/qa?limit=20");
    if (!data) return;
    const list = $("rec-qa-list");
    list.replaceChildren();
    for (const s of data.scores) {
      const li = document.createElement("li");
      li.dataset.rec = s.recording_id;
      li.append(`${s.final_score} 分 · ${(s.agents || []).join(", ")} `);
      li.append(button("▶", () => play(s.recording_id, 0, "质检 " + s.final_score + " 分")));
      for (const rule of s.rules || []) {
        for (const ev of (rule.evidence || []).slice(0, 3)) {
          const b = button(`${rule.rule} ${fmt(ev.at)}`, () => play(s.recording_id, ev.at,
            `质检 ${rule.rule}: ${ev.text || ev.word || ""}`), rule.passed ? "" : "rec-miss");
          b.dataset.at = ev.at;
          b.title = ev.text || "";
          li.append(b);
        }
      }
      list.append(li);
    }
    $("rec-qa").hidden = data.scores.length === 0;
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    new MutationObserver(load).observe($("desk"), { attributes: true, attributeFilter: ["hidden"] });
    const shift = $("shift-rows");
    if (shift) new MutationObserver(markShift).observe(shift, { childList: true });
    load();
    setInterval(load, 60000);
  });
  document.addEventListener("hotline:agent-state", () => setTimeout(load, 3000));
  window.hotlineRecordings = { play, load };
})();
