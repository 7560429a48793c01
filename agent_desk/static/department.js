"use strict";
// A handling office's orders (承办单位): the list the API scopes to the office, and the
// office's steps; the API refuses every other step (agent_desk/workorder_access.py).
(() => {
  const $ = id => document.getElementById(id);
  const PARTS = ["background", "process", "result", "follow_up"];
  let current = null;
  async function orders() {
    const rows = await desk.api("GET", "/api/workorders");
    $("dept-orders").tBodies[0].innerHTML = rows.map(o => "<tr data-order='" + o.id + "'><td>" + desk.esc(o.number) + "</td><td>" + desk.esc(o.title) +
      "</td><td>" + desk.esc(o.category) + "</td><td>" + desk.esc(o.state_label) + "</td><td>" + desk.esc(o.due_at ? new Date(o.due_at).toLocaleString("zh-CN", { hour12: false }) : "") +
      "</td><td><button type='button' data-open='" + o.id + "'>查看</button></td></tr>").join("") || "<tr><td colspan='6' class='muted'>暂无工单</td></tr>";
  }
  function show(o) {
    current = o.id;
    $("dept-number").textContent = o.number; $("dept-state").textContent = o.state_label;
    $("dept-description").textContent = o.title + (o.description ? "：" + o.description : "");
    $("dept-return-reason").textContent = o.return_reason ? "退单理由：" + o.return_reason : "";
    $("dept-accept").hidden = !("accept_assignment" in o.actions);
    $("dept-return").hidden = $("dept-reason").hidden = !("return" in o.actions);
    $("dept-feedback").hidden = !("submit_feedback" in o.actions);
    $("dept-order").hidden = false;
  }
  async function open(id) { show(await desk.api("GET", "/api/workorders/" + id)); }
  async function step(action, body) {
    try { show(await desk.api("POST", "/api/workorders/" + current + "/actions/" + action, body || {})); desk.toast("已提交"); await orders(); }
    catch (e) { desk.toast(e.message); }
  }
  $("dept-orders").addEventListener("click", ev => { const id = ev.target.dataset.open; if (id) open(id).catch(e => desk.toast(e.message)); });
  $("dept-accept").addEventListener("click", () => step("accept_assignment"));
  $("dept-return").addEventListener("click", () => step("return", { reason: $("dept-reason").value }));
  $("dept-feedback").addEventListener("submit", ev => {
    ev.preventDefault();
    const body = {}; PARTS.forEach(p => { body[p] = $("fb-" + p).value; });
    step("submit_feedback", body).then(() => ev.target.reset());
  });
  orders().catch(e => desk.toast(e.message));
})();
