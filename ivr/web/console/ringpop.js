/* The ring and the pop of the SAME call (浏览器座席: 振铃与弹屏按通话匹配).
 *
 * Asterisk names the call in the INVITE it sends to a seat (X-Hotline-Call = the
 * linkedid, the pop's call_id; ivr/seats/asterisk.py). phone.js reads it and emits
 * "hotline:ring" {call_id, caller} (null when the ring ends); console.js emits
 * "hotline:rendered" after each render and exposes window.hotlineCalls. With two calls
 * close together the agent must never answer one while reading the other's pop, so:
 * - the ringing call's pop is put on screen as soon as it is known (now or when it
 *   arrives: a late pop is shown the moment the websocket brings it);
 * - until then, or if the screen cannot switch (an unsaved draft of another call),
 *   a clear banner says the pop on screen is NOT the ringing call's.
 * window.hotlineRingPop.state() tells tests what the page shows.
 */
"use strict";

(function () {
  const LATE_MS = 1500;  // longer than the tracker's pop normally takes (ring+pop p99 < 300 ms)
  const MSG = {
    matched: "✓ 弹屏与来电一致 Pop matches the ringing call",
    waiting: "来电资料加载中… Waiting for this call's pop",
    late: "⚠ 来电资料迟到：屏幕上不是正在振铃的来电 Pop late: the screen does not show the ringing call",
    other: "⚠ 屏幕上是另一个来电的资料（草稿未保存）Another call's pop is on screen (unsaved draft)",
    unnamed: "⚠ 来电未标明通话编号，无法核对弹屏 The ring does not name its call",
  };
  const rp = { ringing: null, caller: "", named: false, since: 0, status: "", timer: null };

  function banner() {
    let el = document.getElementById("ring-match");
    if (!el) {
      const ring = document.getElementById("phone-ring");
      if (!ring) return null;
      el = document.createElement("span");
      el.id = "ring-match";
      el.setAttribute("role", "status");
      ring.after(el);
    }
    return el;
  }

  function show(status) {
    rp.status = status;
    const el = banner();
    if (!el) return;
    el.hidden = !status;
    el.textContent = status ? MSG[status] : "";
    el.className = "ring-match " + (status === "matched" ? "ok" : status === "waiting" ? "" : "warn");
  }

  function check() {
    const calls = window.hotlineCalls;
    if (!rp.named) { show(rp.ringing === null && !rp.caller ? "" : "unnamed"); return; }
    if (!calls) return;
    if (calls.selected() !== rp.ringing && calls.has(rp.ringing) && !calls.dirty()) calls.select(rp.ringing);
    if (calls.selected() === rp.ringing) { show("matched"); return; }
    if (calls.has(rp.ringing)) { show("other"); return; }
    show(Date.now() - rp.since >= LATE_MS ? "late" : "waiting");
  }

  document.addEventListener("hotline:ring", (ev) => {
    clearTimeout(rp.timer);
    const d = ev.detail;
    if (!d) { rp.ringing = null; rp.caller = ""; rp.named = false; show(""); return; }
    rp.ringing = d.call_id; rp.caller = d.caller || ""; rp.named = !!d.call_id; rp.since = Date.now();
    rp.timer = setTimeout(() => { if (rp.ringing === d.call_id) check(); }, LATE_MS);
    check();
  });
  document.addEventListener("hotline:rendered", () => {
    if (rp.named) queueMicrotask(check);  // after console.js has finished this render
  });

  window.hotlineRingPop = {
    state: () => ({ ringing: rp.ringing, status: rp.status,
                    selected: window.hotlineCalls ? window.hotlineCalls.selected() : null }),
  };
})();
