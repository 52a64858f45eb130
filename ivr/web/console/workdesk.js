/* The console as a workplace (工作台): more of the ticket form, its checks, and the calls of the shift.
 *
 * Ticket form: 承办部门 department, 联系电话 phone, 紧急程度 urgency join the draft
 * fields of console.js (saved through PUT /api/tickets/{id}, audited; the server
 * checks the same rules: ivr/web/ticketform.py). A save with a malformed phone or
 * an empty summary is stopped here with the reason, before anything is sent.
 * 本班通话: the agent's own calls of the shift (GET /api/seat/calls, numbers masked),
 * refreshed when the desk shows, after each state change (a call ended) and every 30 s.
 */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const URGENCY = [["normal", "一般 Normal"], ["urgent", "紧急 Urgent"], ["critical", "特急 Critical"]];
  const PHONE = /^[0-9][0-9-]{2,19}$/;
  const RESULT = { answered: "已接听", abandoned: "放弃", forwarded: "已转出", announced: "已播报", unanswered: "未接通" };

  function field(label, id, el) {
    const l = document.createElement("label");
    l.htmlFor = id;
    l.innerHTML = label;
    el.id = id; el.name = id.slice(2);
    return [l, el];
  }

  function buildTicketFields() {
    const dept = document.createElement("input"); dept.maxLength = 64;
    const phone = document.createElement("input"); phone.type = "tel"; phone.maxLength = 20; phone.inputMode = "numeric";
    const urgency = document.createElement("select");
    urgency.append(...URGENCY.map(([v, t]) => new Option(t, v)));
    const anchor = $("t-address");
    anchor.after(...field("承办部门 <small>Department</small>", "t-department", dept),
                 ...field("联系电话 <small>Phone</small>", "t-phone", phone),
                 ...field("紧急程度 <small>Urgency</small>", "t-urgency", urgency));
    TICKET_FIELDS.push("department", "phone", "urgency");  // console.js loads and saves them with the rest
    $("ticket").addEventListener("submit", (e) => {  // capture: runs before console.js saves
      const problem = check();
      if (!problem) return;
      e.preventDefault(); e.stopImmediatePropagation();
      $("ticket-status").textContent = "未保存 Not saved: " + problem;
    }, true);
  }

  function check() {
    if (!$("t-summary").value.trim()) return "摘要不能为空 Summary is empty";
    const phone = $("t-phone").value.trim();
    if (phone && !PHONE.test(phone)) return "联系电话只能是数字（可含 -），3 到 20 位 Phone: digits only";
    return "";
  }

  function buildShift() {
    const card = document.createElement("section");
    card.id = "shift";
    card.className = "card shift";
    card.innerHTML = `<h2>本班通话 <small>Calls this shift</small></h2>
      <table class="history"><thead><tr><th>时间 At</th><th>来电 Caller</th><th>拨打 Dialed</th><th>结果 Result</th><th>工单 Ticket</th></tr></thead>
      <tbody id="shift-rows"></tbody></table><p id="no-shift" class="muted">本班暂无通话 No calls yet</p>`;
    document.querySelector("#desk .side").append(card);
  }

  async function loadShift() {
    const token = sessionStorage.getItem("hotline-token");
    if (!token || $("desk").hidden) return;
    const resp = await fetch("/api/seat/calls", { headers: { Authorization: "Bearer " + token } });
    if (!resp.ok) return;
    const calls = (await resp.json()).calls;
    const body = $("shift-rows");
    body.replaceChildren();
    for (const c of calls) {
      const tr = document.createElement("tr");
      tr.dataset.call = c.call_id || "";  // recordings.js adds ▶ 录音 where the call was recorded
      const at = c.at ? new Date(c.at).toLocaleTimeString("zh-CN", { hour12: false }) : "—";
      for (const v of [at, c.caller, c.dialed, RESULT[c.disposition] || c.disposition, c.ticket_id]) {
        const td = document.createElement("td");
        td.textContent = v || "—";
        tr.append(td);
      }
      body.append(tr);
    }
    $("no-shift").hidden = calls.length > 0;
  }

  document.addEventListener("DOMContentLoaded", () => {
    buildTicketFields();
    buildShift();
    new MutationObserver(loadShift).observe($("desk"), { attributes: true, attributeFilter: ["hidden"] });
    loadShift();
    setInterval(loadShift, 30000);
  });
  document.addEventListener("hotline:agent-state", () => setTimeout(loadShift, 500));
  window.hotlineWorkdesk = { loadShift };
})();
