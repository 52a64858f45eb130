/* The seat's agent state (座席状态) in the phone bar: 签入/签出, 示忙/示闲, 话后处理.
 *
 * The server is the truth: every change is asked for over /api/seat/* and comes
 * back (to every console of this agent and to the supervisors) as an
 * `agent_state` websocket event, which console.js hands over as the DOM event
 * "hotline:agent-state". A running timer shows how long the state has lasted
 * (or, for an automatic 话后处理, how long is left). phone.js tells us the seat's
 * info ("hotline:seat-info") and when the phone first registers
 * ("hotline:registered"): a seat with no stored state then signs in (签入) by
 * itself; one that signed out stays out until the agent clicks 签入.
 * Shortcut: F8 toggles 示忙/示闲.
 */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const seat = { info: null, state: null, signedInOnce: false };

  function build() {
    const bar = document.createElement("span");
    bar.className = "phone-agent";
    bar.innerHTML = `
      <span id="phone-agent-state" class="phone-agent-state" role="status"></span>
      <select id="phone-reason" aria-label="示忙原因 Pause reason"></select>
      <button id="phone-pause" type="button" title="F8">示忙 Pause</button>
      <button id="phone-ready" type="button" hidden title="F8">示闲 Ready</button>
      <button id="seat-sign-in" type="button" hidden>签入 Sign in</button>
      <button id="seat-sign-out" type="button" hidden>签出 Sign out</button>`;
    $("phone-error").before(bar);
    $("phone-pause").addEventListener("click", () => post("/api/seat/state", { state: "paused", reason: $("phone-reason").value }));
    $("phone-ready").addEventListener("click", () => post("/api/seat/state", { state: "ready" }));
    $("seat-sign-in").addEventListener("click", () => post("/api/seat/sign-in"));
    $("seat-sign-out").addEventListener("click", () => post("/api/seat/sign-out"));
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "F8" || !seat.info) return;
      ev.preventDefault();
      const s = seat.state && seat.state.state;
      if (s === "paused" || s === "wrapup") $("phone-ready").click();
      else if (s !== "signed_out") $("phone-pause").click();
    });
    setInterval(show, 1000);
    show();
  }

  async function post(path, body) {
    const resp = await fetch(path, {
      method: "POST", body: JSON.stringify(body || {}),
      headers: { Authorization: "Bearer " + sessionStorage.getItem("hotline-token"), "Content-Type": "application/json" },
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    if (!resp.ok) { window.hotlinePhone.setError(data.detail || ("状态切换失败 " + resp.status)); return null; }
    window.hotlinePhone.setError("");
    apply(data);  // the websocket brings the same change; applying twice is harmless
    return data;
  }

  function apply(a) {
    if (!a || !a.state) return;
    seat.state = { state: a.state, label: a.label, reason: a.reason || "", since: Date.parse(a.since),
                   until: a.until ? Date.parse(a.until) : null };
    show();
  }

  function show() {
    const el = $("phone-agent-state");
    if (!el) return;
    const a = seat.state;
    const s = a ? a.state : null;
    if (!a) el.textContent = seat.info ? "未签入 Not signed in" : "";
    else {
      const left = a.until && a.until > Date.now();
      const secs = Math.max(0, Math.floor((left ? a.until - Date.now() : Date.now() - a.since) / 1000));
      const mmss = String(Math.floor(secs / 60)).padStart(2, "0") + ":" + String(secs % 60).padStart(2, "0");
      el.textContent = a.label + (a.reason ? "（" + a.reason + "）" : "") + (left ? " 剩余 " : " ") + mmss;
    }
    const inQueues = s === "ready" || s === "paused" || s === "wrapup";
    $("phone-pause").hidden = !inQueues || s !== "ready";
    $("phone-reason").hidden = $("phone-pause").hidden;
    $("phone-ready").hidden = !(s === "paused" || (s === "wrapup" && seat.info && seat.info.wrapup_end === "manual"));
    $("seat-sign-in").hidden = inQueues || !seat.info;
    $("seat-sign-out").hidden = !inQueues;
    document.body.dataset.agentState = s || "";
  }

  document.addEventListener("DOMContentLoaded", build);
  document.addEventListener("hotline:seat-info", (ev) => {
    seat.info = ev.detail;
    $("phone-reason").replaceChildren(...(seat.info.pause_reasons || []).map((r) => new Option(r, r)));
    seat.state = null;
    apply(seat.info.state);  // a reload: the state (and its timer) as stored when it was set
    show();
  });
  document.addEventListener("hotline:registered", () => {
    if (seat.signedInOnce || !seat.info) return;
    seat.signedInOnce = true;
    if (!seat.state) post("/api/seat/sign-in");  // a fresh seat joins its queues; 签出 stays out
  });
  document.addEventListener("hotline:agent-state", (ev) => {
    if (seat.info && ev.detail.agent === seat.info.agent) apply(ev.detail);
  });
  document.addEventListener("hotline:seat-stopped", () => { seat.info = null; seat.state = null; seat.signedInOnce = false; show(); });
  window.hotlineSeat = { state: () => seat.state };
})();
