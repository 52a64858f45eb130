// 实时监控大屏: opens /wallboard/ws with the supervisor's token (from ?token=) and redraws every snapshot.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const pct = (v) => (v === null || v === undefined ? "-" : (100 * v).toFixed(1) + "%");
  const dur = (s) => { s = Math.max(0, s | 0); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };
  function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
  function fill(tbody, items, draw) { tbody.textContent = ""; for (const it of items) draw(tbody.insertRow(), it); }
  const STATES = { free: "空闲", ringing: "振铃", talking: "通话中", wrapup: "话后处理", paused: "示忙", logged_out: "未签入" };

  function render(s) {
    const t = (s.today && s.today.total) || {};
    $("totals").textContent = "";
    for (const [label, v] of [["排队 Waiting", s.waiting], ["今日呼入 Offered", t.offered || 0], ["接通 Answered", t.answered || 0],
                              ["放弃 Abandoned", t.abandoned || 0], ["15秒接通率", pct(t.service_level)], ["接通率", pct(t.connect_rate)]]) {
      const span = document.createElement("span"); span.textContent = label + "：" + v; $("totals").appendChild(span);
    }
    fill($("queues").tBodies[0], s.queues, (row, q) => {
      row.dataset.queue = q.id;
      const d = q.today || {};
      cell(row, q.name); cell(row, String(q.waiting), q.waiting ? "waiting waiting-hot" : "waiting");
      cell(row, dur(q.longest_wait_s), "longest"); cell(row, String(d.offered || 0)); cell(row, String(d.answered || 0));
      cell(row, String(d.abandoned || 0)); cell(row, pct(d.service_level));
    });
    $("counts").textContent = "";
    for (const [state, label] of Object.entries(STATES)) {
      const span = document.createElement("span"); span.textContent = label + " " + ((s.agent_counts || {})[state] || 0);
      $("counts").appendChild(span);
    }
    fill($("agents").tBodies[0], s.agents, (row, a) => {
      row.dataset.agent = a.agent; row.className = a.state;
      cell(row, a.agent); cell(row, a.label, "state"); cell(row, a.reason || "", "reason");
      cell(row, dur(a.seconds), "duration"); cell(row, a.queues.join(", "));
      const actions = cell(row, "", "actions");
      if (a.state === "talking") {
        for (const [mode, label] of [["listen", "监听"], ["whisper", "密语"], ["barge", "强插"]]) {
          const b = document.createElement("button");
          b.textContent = label; b.className = "spy " + mode; b.onclick = () => spy(a.agent, mode);
          actions.appendChild(b);
        }
      }
    });
    fill($("lines").tBodies[0], Object.entries((s.today && s.today.lines) || {}), (row, [line, d]) => {
      cell(row, line); cell(row, String(d.offered)); cell(row, String(d.answered)); cell(row, String(d.abandoned));
      cell(row, pct(d.service_level));
    });
  }

  // 监听/密语/强插: the server rings the supervisor's own phone, then joins the agent's call.
  async function spy(agent, mode) {
    $("notice").textContent = "正在呼叫您的话机… Calling your phone";
    try {
      const r = await fetch("/api/supervision/spy", { method: "POST", body: JSON.stringify({ agent, mode }),
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" } });
      const body = await r.json();
      $("notice").textContent = r.ok ? body.label + " " + agent + "：请接听您的话机 (answer your phone)" : (body.detail || r.status);
    } catch (e) { $("notice").textContent = "请求失败 " + e; }
  }

  let delay = 500;
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/wallboard/ws?token=" + encodeURIComponent(token));
    ws.onopen = () => { delay = 500; $("status").textContent = "实时 Live"; $("status").className = "status live"; };
    ws.onmessage = (m) => render(JSON.parse(m.data));
    ws.onclose = () => {
      $("status").textContent = "已断开，重连中… Reconnecting"; $("status").className = "status down";
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
