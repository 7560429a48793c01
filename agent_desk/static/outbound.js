// The desk's dial box: the desk rings the agent's own phone, then the number (POST
// /api/agent/calls). A refused number gets its reason before anything rings; a number the
// phone itself dialled and the controller refused arrives over the live feed (OutboundRefused).
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const show = (text, bad) => { const out = $("dial-result"); out.textContent = text; out.className = "result" + (bad ? " bad" : ""); };
  $("dial-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const number = $("dial-number").value.trim();
    if (!number) { show("请输入要拨打的号码", true); return; }
    const body = { number };
    if ($("dial-line").value) body.line = $("dial-line").value;
    $("btn-dial").disabled = true;
    try {
      const placed = await desk.api("POST", "/api/agent/calls", body);
      show(placed.message + "（外显：" + placed.line_label + "）", false);
    } catch (e) {
      show("未拨打：" + e.message, true);
    } finally { $("btn-dial").disabled = false; }
  });
  document.addEventListener("desk-live", ev => {
    const msg = ev.detail || {};
    if (msg.type !== "OutboundRefused") return;
    show("未拨打：" + msg.message, true);
    desk.toast("外呼被拒绝：" + msg.message);
  });
})();
