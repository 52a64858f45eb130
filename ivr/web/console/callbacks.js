/* 外呼与回访 tab of the agent console (callbacks/, docs/callbacks.md).
 * Agents: the missed calls waiting for 回拨, each with a 回拨 button (the
 * engine places the call; the number stays masked). Supervisors: the latest
 * tasks with their attempts and answers. The screen pop gains a 回电 badge
 * when the call is one the center placed back (queue callback, missed call).
 * Loaded after console.js; uses its `state`, `api` and `renderPop`. Every
 * server value goes on the page with textContent. */
"use strict";

const CB_STATES = { pending: "待呼叫", dialing: "呼叫中", done: "已完成", refused: "已拒绝", cancelled: "已取消" };
const CB_CAUSES = { answered: "已接听", busy: "忙线", no_answer: "无人接听", rejected: "拒接",
                    unreachable: "无法接通", congestion: "线路拥塞", failed: "呼叫失败" };
const CB_FLOWS = { survey: "回访", missed: "漏接回拨", queue: "排队回电" };
const CB_REFRESH_MS = 10000;

function cbEl(tag, textValue, cls) {
  const e = document.createElement(tag);
  if (textValue !== undefined) e.textContent = textValue === null || textValue === "" ? "—" : String(textValue);
  if (cls) e.className = cls;
  return e;
}

function cbCard() {
  let card = document.getElementById("callbacks");
  if (card) return card;
  card = cbEl("section", undefined, "card callbacks");
  card.id = "callbacks";
  const head = cbEl("h2", "外呼与回访 ");
  head.append(cbEl("small", "Callbacks"));
  const refresh = cbEl("button", "刷新 Refresh", "quiet");
  refresh.type = "button";
  refresh.id = "cb-refresh";
  refresh.addEventListener("click", cbLoad);
  head.append(" ", refresh);
  const status = cbEl("p", "", "status");
  status.id = "cb-status";
  status.setAttribute("role", "status");
  const table = cbEl("table", undefined, "history cb-tasks");
  table.append(cbEl("thead"), cbEl("tbody"));
  table.tBodies[0].id = "cb-rows";
  const detail = cbEl("div", undefined, "cb-detail");
  detail.id = "cb-detail";
  card.append(head, status, table, detail);
  document.querySelector("#desk .side").append(card);
  return card;
}

function cbHeader(cols) {
  const tr = cbEl("tr");
  for (const c of cols) {
    const th = cbEl("th");
    th.textContent = c;  // "" stays empty (the button column)
    tr.append(th);
  }
  document.querySelector("#callbacks thead").replaceChildren(tr);
}

function cbAnswers(t) {
  return Object.entries(t.answers || {}).map(([q, a]) => q + ":" + (a.text || a.key)).join("，");
}

async function cbLoad() {
  if (!state.token || !state.options || document.getElementById("desk").hidden) return;
  cbCard();
  const supervisor = state.options.role === "supervisor";
  const r = await api("GET", supervisor ? "/api/callbacks" : "/api/callbacks/missed");
  const status = document.getElementById("cb-status");
  if (!r.ok) {
    status.textContent = r.status === 503 ? "外呼未启用 Callbacks off" : "读取失败 Load failed (" + r.status + ")";
    return;
  }
  const rows = document.getElementById("cb-rows");
  rows.replaceChildren();
  const tasks = r.data.tasks || [];
  status.textContent = tasks.length ? "" : (supervisor ? "暂无任务 No task" : "暂无待回拨 No missed call waiting");
  if (supervisor) {
    cbHeader(["#", "类型 Flow", "号码 Number", "状态 State", "次数 Tries", "结果 Result", "回访 Answers"]);
    for (const t of tasks) {
      const tr = cbEl("tr");
      tr.dataset.task = t.id;
      for (const v of [t.id, CB_FLOWS[t.flow] || t.flow, t.number, CB_STATES[t.state] || t.state, t.attempts,
                       CB_CAUSES[t.result] || t.result, cbAnswers(t)]) tr.append(cbEl("td", v));
      tr.addEventListener("click", () => cbDetail(t.id));
      rows.append(tr);
    }
    return;
  }
  cbHeader(["号码 Number", "排队 Waited", "状态 State", "说明 Reason", ""]);
  for (const t of tasks) {
    const tr = cbEl("tr");
    tr.dataset.task = t.id;
    for (const v of [t.number, t.hold_s === null || t.hold_s === undefined ? null : t.hold_s + " 秒",
                     CB_STATES[t.state] || t.state, t.reason]) tr.append(cbEl("td", v));
    const td = cbEl("td");
    const btn = cbEl("button", "回拨 Call back", "primary");
    btn.type = "button";
    btn.disabled = t.state !== "pending";
    btn.addEventListener("click", () => cbDial(t.id, btn));
    td.append(btn);
    tr.append(td);
    rows.append(tr);
  }
}

async function cbDial(id, btn) {
  btn.disabled = true;
  const r = await api("POST", "/api/callbacks/" + encodeURIComponent(id) + "/dial");
  await cbLoad();
  document.getElementById("cb-status").textContent = r.ok
    ? "已安排回拨，接通后转入队列 Calling back" : "无法回拨 Not possible: " + ((r.data && r.data.detail) || r.status);
}

async function cbDetail(id) {
  const r = await api("GET", "/api/callbacks/" + encodeURIComponent(id));
  const box = document.getElementById("cb-detail");
  box.replaceChildren();
  if (!r.ok) return;
  box.append(cbEl("h3", "任务 Task #" + r.data.id + " · " + (r.data.reason || "")));
  const ul = cbEl("ul");
  for (const a of r.data.attempt_log || []) {
    ul.append(cbEl("li", "第" + a.no + "次 " + (a.started_at || "").replace("T", " ").slice(0, 19) + " → "
      + (CB_CAUSES[a.cause] || a.cause || "进行中")));
  }
  box.append(ul);
}

/* The screen pop: a badge when the center called this citizen back. */
const CB_POP = { queue: "排队回电 Queue callback", missed: "漏接回拨 Missed-call callback",
  survey: "回访转人工 Survey: the citizen asked for an agent" };
const cbRenderPop = renderPop;
renderPop = function (call) {  // eslint-disable-line no-global-assign
  cbRenderPop(call);
  let badge = document.getElementById("pop-callback");
  if (!badge) {
    badge = cbEl("span", "", "badge callback");
    badge.id = "pop-callback";
    document.querySelector("#call .pop-head").append(badge);
  }
  badge.textContent = CB_POP[call.callback] || "";
  badge.hidden = !CB_POP[call.callback];
};

setInterval(cbLoad, CB_REFRESH_MS);
new MutationObserver(cbLoad).observe(document.getElementById("desk"), { attributes: true, attributeFilter: ["hidden"] });
