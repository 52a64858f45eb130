/* 座席状态 (the supervisors' board): every agent's state, reason and how long it has lasted.
 *
 * Shown to supervisors only: GET /api/seats/states answers 403 to an agent and
 * the card stays hidden. Loaded when the desk shows, then kept live by the
 * `agent_state` websocket events (console.js → "hotline:agent-state"); the
 * durations tick every second. Values go on the page with textContent only.
 */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const rows = new Map();  // agent -> {agent, state, label, reason, since}

  function build() {
    const card = document.createElement("section");
    card.id = "board";
    card.className = "card board";
    card.hidden = true;
    card.innerHTML = `<h2>座席状态 <small>Agent states</small></h2>
      <table class="history"><thead><tr><th>座席 Agent</th><th>状态 State</th><th>原因 Reason</th><th>时长 For</th></tr></thead>
      <tbody id="board-rows"></tbody></table>`;
    document.querySelector("#desk .side").prepend(card);
  }

  async function load() {
    const token = sessionStorage.getItem("hotline-token");
    const resp = await fetch("/api/seats/states", { headers: { Authorization: "Bearer " + token } });
    if (!resp.ok) { $("board").hidden = true; return; }  // 403: not a supervisor
    rows.clear();
    for (const a of (await resp.json()).agents) rows.set(a.agent, a);
    $("board").hidden = false;
    render();
  }

  function render() {
    const body = $("board-rows");
    if (!body || $("board").hidden) return;
    body.replaceChildren();
    for (const a of rows.values()) {
      const tr = document.createElement("tr");
      tr.dataset.agent = a.agent;
      tr.className = "agent-" + (a.state || "unknown");
      const secs = a.since ? Math.max(0, Math.floor((Date.now() - Date.parse(a.since)) / 1000)) : null;
      const dur = secs === null ? "—" : String(Math.floor(secs / 60)).padStart(2, "0") + ":" + String(secs % 60).padStart(2, "0");
      for (const v of [a.agent, a.label, a.reason || "—", dur]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    const desk = $("desk");
    let shown = false;
    const follow = () => {
      if (!desk.hidden && !shown) { shown = true; load(); }
      if (desk.hidden) { shown = false; $("board").hidden = true; }
    };
    new MutationObserver(follow).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
    follow();
    setInterval(render, 1000);
  });
  document.addEventListener("hotline:agent-state", (ev) => {
    const a = ev.detail;
    rows.set(a.agent, { agent: a.agent, state: a.state, label: a.label, reason: a.reason, since: a.since });
    render();
  });
})();
