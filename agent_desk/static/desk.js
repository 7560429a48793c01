// The agent workbench: state buttons, screen pop over WebSocket, call control, booking,
// work orders, knowledge search, wrap-up and "my day".
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const labels = JSON.parse($("state-labels").textContent);
  let status = null;          // last status from the server
  let stateSince = Date.now(); // local clock of the current state's start
  let callStarted = null;     // local clock of the current call's answer
  let currentCall = null;     // the screen pop of the current call
  let skewMs = 0;             // server clock minus local clock

  const act = (fn) => async (ev) => { if (ev && ev.type === "submit") ev.preventDefault(); try { await fn(ev); } catch (e) { desk.toast(e.message); } };

  function showStatus(s) {
    // Answers to overlapping requests (a click and the refreshes live events start) may come
    // back out of order: the one the server computed last wins, so an older state never
    // overwrites a newer one.
    if (status && s.server_time && status.server_time && s.server_time < status.server_time) return;
    status = s;
    if (s.server_time) skewMs = s.server_time * 1000 - Date.now();
    const el = $("agent-state");
    el.textContent = labels[s.state] || s.state;
    el.dataset.state = s.state;
    $("agent-reason").textContent = s.reason_label ? "（" + s.reason_label + "）" : "";
    stateSince = s.since ? s.since * 1000 - skewMs : Date.now();
    $("auto-answer").checked = !!s.auto_answer;
    const out = s.state === "logged_out";
    $("btn-signin").disabled = !out;
    $("btn-signout").disabled = out;
    $("btn-ready").disabled = out || s.state === "ready";
    $("btn-notready").disabled = out;
    if (s.state === "on_call" && !callStarted) callStarted = Date.now();
    if (!["on_call", "on_hold"].includes(s.state)) callStarted = null;
  }
  async function refresh() { showStatus(await desk.background("/api/agent/status")); }

  function renderPop(pop) {
    currentCall = pop;
    const h = pop.history || {};
    const list = (items, fmt) => items && items.length ? "<ul>" + items.map(i => "<li>" + fmt(i) + "</li>").join("") + "</ul>" : "<span class='muted'>无</span>";
    $("screen-pop").className = "";
    $("screen-pop").innerHTML =
      "<dl class='stats'>" +
      "<dt>来电号码</dt><dd id='pop-caller'>" + desk.esc(pop.caller_number) + (pop.elderly ? "（老年人优先）" : "") + "</dd>" +
      "<dt>线路</dt><dd id='pop-line'>" + desk.esc(pop.line_label || pop.line) + "</dd>" +
      "<dt>语音导航</dt><dd id='pop-ivr'>" + desk.esc((pop.ivr_path || []).join(" → ")) + "</dd>" +
      "<dt>识别意图</dt><dd id='pop-intent'>" + desk.esc(pop.intent_label || pop.intent || "—") + "</dd>" +
      "<dt>技能组</dt><dd>" + desk.esc(pop.skill) + "</dd>" +
      "<dt>历史来电</dt><dd id='pop-calls'>" + list(h.calls, c => desk.esc(c.started_at + " " + c.line + " " + c.disposition + (c.wrapup_code ? " / " + c.wrapup_code : ""))) + "</dd>" +
      "<dt>历史工单</dt><dd id='pop-orders'>" + list(h.orders, o => desk.esc(o.number + " " + o.title + "（" + o.state + "）")) + "</dd>" +
      "<dt>历史预约</dt><dd id='pop-bookings'>" + list(h.bookings, b => desk.esc(b.code + " " + b.hospital_name + " " + b.day + "（" + b.status + "）")) + "</dd>" +
      "</dl>";
    $("order-title").value = $("order-title").value || (pop.intent_label ? pop.intent_label + "来电" : "来电诉求");
  }

  function onLive(msg) {
    // Other parts of the page (the dial box) follow the same feed.
    document.dispatchEvent(new CustomEvent("desk-live", { detail: msg }));
    if (msg.type === "CallOffered") { renderPop(msg); desk.toast("来电：" + msg.caller_number); }
    else if (msg.type === "EmergencyActivated") { desk.toast("紧急通知已启用：" + msg.text); }
    else if (msg.type === "CallAnswered") { callStarted = Date.now(); }
    else if (msg.type === "CallEnded") { callStarted = null; desk.toast("通话结束，请填写话后小结"); $("wrapup-notes").focus(); }
    if (["AgentStateChanged", "CallAnswered", "CallEnded", "CallOffered"].includes(msg.type)) refresh().catch(() => {});
  }

  setInterval(() => {
    $("state-timer").textContent = desk.duration((Date.now() - stateSince) / 1000);
    $("call-timer").textContent = callStarted ? desk.duration((Date.now() - callStarted) / 1000) : "";
  }, 500);

  $("btn-signin").addEventListener("click", act(async () => showStatus(await desk.api("POST", "/api/agent/sign-in"))));
  $("btn-signout").addEventListener("click", act(async () => showStatus(await desk.api("POST", "/api/agent/sign-out"))));
  $("btn-ready").addEventListener("click", act(async () => showStatus(await desk.api("POST", "/api/agent/ready"))));
  $("btn-notready").addEventListener("click", act(async () => showStatus(await desk.api("POST", "/api/agent/not-ready", { reason: $("notready-reason").value }))));
  $("auto-answer").addEventListener("change", act(async () => showStatus(await desk.api("POST", "/api/agent/auto-answer", { enabled: $("auto-answer").checked }))));
  // With the browser softphone on a call, hold and hang-up are SIP from the page (the caller
  // hears music on hold); otherwise the desk asks Asterisk over AMI.
  $("btn-hold").addEventListener("click", act(async () => {
    if (softphone.active()) { softphone.hold(true); return; }
    showStatus(await desk.api("POST", "/api/agent/call/hold"));
  }));
  $("btn-resume").addEventListener("click", act(async () => {
    if (softphone.active()) { softphone.hold(false); return; }
    showStatus(await desk.api("POST", "/api/agent/call/resume"));
  }));
  $("btn-hangup").addEventListener("click", act(async () => {
    if (softphone.active()) softphone.hangup(); else await desk.api("POST", "/api/agent/call/hangup");
    desk.toast("已挂断");
  }));
  $("btn-transfer").addEventListener("click", act(async () => {
    await desk.api("POST", "/api/agent/call/transfer", { kind: $("transfer-kind").value, target: $("transfer-target").value.trim() });
    desk.toast("已转接");
  }));
  $("btn-consult").addEventListener("click", act(async () => {
    if (!softphone.active()) throw new Error("咨询转接需要使用软电话通话");
    const body = { kind: $("transfer-kind").value, target: $("transfer-target").value.trim() };
    const check = await desk.api("POST", "/api/agent/call/transfer-target", body);
    softphone.startConsult(check.dial);
  }));

  // The softphone's own buttons.
  $("btn-answer").addEventListener("click", act(async () => softphone.answer()));
  $("btn-phone-hangup").addEventListener("click", act(async () => softphone.hangup()));
  $("btn-phone-hold").addEventListener("click", act(async () => softphone.hold(!softphone.held())));
  $("btn-phone-mute").addEventListener("click", act(async () => softphone.mute(!softphone.muted())));
  $("dtmf-pad").addEventListener("click", ev => { const key = ev.target.dataset.key; if (key) softphone.dtmf(key); });
  $("btn-consult-complete").addEventListener("click", act(async () => softphone.completeTransfer()));
  $("btn-consult-cancel").addEventListener("click", act(async () => softphone.cancelConsult()));

  // Knowledge base (the knowledge API of the desk).
  $("kb-form").addEventListener("submit", act(async () => {
    const q = $("kb-q").value.trim(); if (!q) return;
    const hits = await desk.api("GET", "/api/knowledge/search?q=" + encodeURIComponent(q));
    // title_html / snippet_html are escaped by the search service; only <mark> is added.
    $("kb-results").innerHTML = hits.length ? hits.map(h => "<li><strong>" + h.title_html + "</strong><br><span class='small'>" + h.snippet_html + "</span></li>").join("") : "<li class='muted'>未找到</li>";
  }));

  // Booking from the desk.
  $("hosp-form").addEventListener("submit", act(async () => {
    const list = await desk.api("GET", "/api/desk/booking/hospitals?q=" + encodeURIComponent($("hosp-q").value));
    $("hosp-list").innerHTML = "<option value=''>选择医院</option>" + list.map(h => "<option value='" + h.id + "'>" + desk.esc(h.name) + "</option>").join("");
  }));
  $("hosp-list").addEventListener("change", act(async () => {
    const id = $("hosp-list").value; if (!id) return;
    const list = await desk.api("GET", "/api/desk/booking/hospitals/" + id + "/departments");
    $("dept-list").innerHTML = "<option value=''>选择科室</option>" + list.map(d => "<option value='" + d.id + "'>" + desk.esc(d.name) + "</option>").join("");
  }));
  let chosen = { schedule: null, slot: null };
  $("dept-list").addEventListener("change", act(async () => {
    const id = $("dept-list").value; if (!id) return;
    const list = await desk.api("GET", "/api/desk/booking/schedules?department_id=" + id);
    $("schedule-list").innerHTML = list.length ? list.map(s =>
      "<div class='row'>" + desk.esc(s.day + " " + s.session_label + " " + (s.doctor_name || "普通门诊") + " " + s.doctor_title + " 余" + s.available) +
      "<button type='button' data-schedule='" + s.id + "'" + (s.available ? "" : " disabled") + ">选择</button></div>").join("") : "<div class='muted'>暂无可约号源</div>";
    $("slot-list").innerHTML = "";
  }));
  $("schedule-list").addEventListener("click", act(async (ev) => {
    const id = ev && ev.target && ev.target.dataset.schedule; if (!id) return;
    chosen = { schedule: Number(id), slot: null };
    const slots = await desk.api("GET", "/api/desk/booking/schedules/" + id + "/slots");
    $("slot-list").innerHTML = slots.filter(s => s.available).map(s =>
      "<label class='inline'><input type='radio' name='slot' value='" + s.id + "'> " + desk.esc(s.seq + "号 " + s.time) + "</label> ").join("") || "<div class='muted'>无空闲号</div>";
  }));
  $("slot-list").addEventListener("change", ev => { chosen.slot = Number(ev.target.value); });

  // Resident ID check digit (GB 11643), validated as typed.
  function idValid(id) {
    if (!/^\d{17}[\dXx]$/.test(id)) return false;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = w.reduce((acc, wi, i) => acc + wi * Number(id[i]), 0);
    return "10X98765432"[sum % 11] === id[17].toUpperCase();
  }
  $("patient-id").addEventListener("input", () => {
    const v = $("patient-id").value.trim(), hint = $("id-check");
    if (!v) { hint.textContent = ""; hint.className = "hint"; return; }
    const ok = v.length === 18 && idValid(v);
    hint.textContent = v.length < 18 ? "还差 " + (18 - v.length) + " 位" : ok ? "✓ 校验通过" : "✗ 校验位不正确";
    hint.className = "hint " + (ok ? "ok" : v.length < 18 ? "" : "bad");
  });
  // One Idempotency-Key per booking attempt, kept across the attempt's retries: a retry after
  // a lost answer (network, a restarted server, 503) gets the first booking back, never a
  // second one. A new key only once the server has answered, or the agent changed the form.
  let bookingAttempt = null;
  function bookingKeyFor(body) {
    const form = JSON.stringify(body);
    if (!bookingAttempt || bookingAttempt.form !== form) {
      const key = (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));
      bookingAttempt = { form, key };
    }
    return bookingAttempt.key;
  }
  const RETRIABLE = [409, 502, 503, 504];  // 409 here: the same key is still being worked on
  async function bookWithRetries(body) {
    const headers = { "Idempotency-Key": bookingKeyFor(body) };
    for (let attempt = 1; ; attempt++) {
      try {
        const receipt = await desk.api("POST", "/api/desk/booking/bookings", body, headers);
        bookingAttempt = null;
        return receipt;
      } catch (e) {
        const lost = e instanceof TypeError || e instanceof SyntaxError || RETRIABLE.includes(e.status) && (e.status !== 409 || e.code === "idempotency-in-progress");
        if (!lost) { bookingAttempt = null; throw e; }
        if (attempt >= 4) throw new Error("预约服务暂时不可用，请稍后再点“预约”重试（不会重复预约）");
        await new Promise(done => setTimeout(done, 1000 * attempt));
      }
    }
  }
  $("btn-book").addEventListener("click", async () => {
    const out = $("booking-result");
    out.className = "result";
    try {
      if (!chosen.schedule) throw new Error("请先选择出诊");
      if (!idValid($("patient-id").value.trim())) throw new Error("身份证号校验不通过");
      const receipt = await bookWithRetries({
        schedule_id: chosen.schedule, slot_id: chosen.slot, id_number: $("patient-id").value.trim(),
        name: $("patient-name").value.trim(), phone: $("patient-phone").value.trim(),
        call_id: currentCall ? currentCall.call_id : null,
      });
      out.innerHTML = "预约成功，预约码 <span id='booking-code'>" + desk.esc(receipt.code) + "</span>：" + desk.esc(receipt.hospital_name + " " + receipt.department_name + " " + receipt.day + " " + receipt.slot_time) + "。请向来电人复述预约码。";
      $("wrapup-booking").value = receipt.code; $("cancel-code").value = receipt.code; $("wrapup-code").value = "booked";
    } catch (e) { out.className = "result bad"; out.textContent = "未能预约：" + e.message + (e.code ? "（规则：" + e.code + "）" : ""); }
  });
  $("cancel-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("booking-result");
    try {
      const r = await desk.api("POST", "/api/desk/booking/bookings/" + encodeURIComponent($("cancel-code").value.trim()) + "/cancel", { id_number: $("patient-id").value.trim() });
      out.className = "result"; out.textContent = "已取消预约 " + r.code;
    } catch (e) { out.className = "result bad"; out.textContent = "未能取消：" + e.message + (e.code ? "（规则：" + e.code + "）" : ""); }
  });

  // Work orders from the current call.
  $("order-form").addEventListener("submit", act(async () => {
    const order = await desk.api("POST", "/api/agent/call/order", {
      title: $("order-title").value, category: $("order-category").value, description: $("order-description").value,
      call_id: currentCall ? currentCall.call_id : null,
    });
    $("order-result").innerHTML = "已建工单 <span id='order-number'>" + desk.esc(order.number) + "</span>";
    $("wrapup-order").value = order.number; $("wrapup-code").value = "order";
    loadOrders();
  }));
  // My orders by state, with the steps the work-order service allows now.
  const ORDER_INPUT = { dispatch: ["department", "派发至哪个部门？"], "return": ["reason", "退单原因？"],
    submit_feedback: ["result", "处理结果？"], supervise: ["note", "督办意见？"] };
  let orders = [];
  async function loadOrders() {
    try {
      orders = await desk.api("GET", "/api/workorders?mine=true&limit=50");
      const states = {}; orders.forEach(o => { states[o.state] = o.state_label || o.state; });
      const pick = $("order-state"), chosen = pick.value;
      pick.innerHTML = "<option value=''>全部状态</option>" + Object.entries(states).map(([k, v]) => "<option value='" + desk.esc(k) + "'>" + desk.esc(v) + "</option>").join("");
      pick.value = states[chosen] ? chosen : "";
      const shown = orders.filter(o => !pick.value || o.state === pick.value);
      $("my-orders").innerHTML = shown.map(o => "<li><a href='/desk/orders/" + o.id + "'>" + desk.esc(o.number) + "</a> " + desk.esc(o.title + "（" + (o.state_label || o.state) + "）") +
        Object.entries(o.actions || {}).map(([a, label]) => " <button type='button' data-order='" + o.id + "' data-action='" + desk.esc(a) + "'>" + desk.esc(label) + "</button>").join("") +
        "</li>").join("") || "<li class='muted'>暂无</li>";
    } catch (e) { $("my-orders").innerHTML = "<li class='muted'>" + desk.esc(e.message) + "</li>"; }
  }
  $("order-state").addEventListener("change", () => loadOrders());
  $("my-orders").addEventListener("click", act(async (ev) => {
    const t = ev.target; if (!t.dataset.action) return;
    const body = {}, input = ORDER_INPUT[t.dataset.action];
    if (input) { const value = window.prompt(input[1]); if (value === null) return; body[input[0]] = value; }
    if (t.dataset.action === "check_feedback") body.accept = window.confirm("反馈是否合格？（确定=合格，取消=退回重办）");
    if (t.dataset.action === "callback") { location.href = "/desk/orders/" + t.dataset.order; return; }  // 回访: on the order's page
    await desk.api("POST", "/api/workorders/" + t.dataset.order + "/actions/" + t.dataset.action, body);
    desk.toast("已" + t.textContent); loadOrders();
  }));

  $("wrapup-form").addEventListener("submit", act(async () => {
    showStatus(await desk.api("POST", "/api/agent/wrapup", {
      call_id: currentCall ? currentCall.call_id : (status && status.call_id) || "",
      code: $("wrapup-code").value, notes: $("wrapup-notes").value,
      order_number: $("wrapup-order").value, booking_code: $("wrapup-booking").value,
    }));
    desk.toast("小结已提交");
    currentCall = null; $("screen-pop").className = "empty"; $("screen-pop").textContent = "暂无来电";
    for (const id of ["wrapup-notes", "wrapup-order", "wrapup-booking", "order-title", "order-description"]) $(id).value = "";
    loadDay();
  }));

  async function loadDay() {
    const d = await desk.api("GET", "/api/agent/my-day");
    $("my-day").innerHTML = d.items.map(i => "<dt>" + desk.esc(i.label) + "</dt><dd>" + desk.esc(i.value) + "</dd>").join("");
  }

  async function loadScheduledCallbacks() {
    const rows = await desk.background("/api/callbacks/scheduled");
    $("scheduled-callbacks").tBodies[0].innerHTML = rows.length ? rows.map(r =>
      "<tr data-task=\"" + r.task_id + "\"><td>" + desk.esc(r.window) + "</td><td>" + desk.esc(r.line_label) +
      "</td><td>" + desk.esc(r.number) + "</td><td>" + desk.esc(r.status_label) + "</td></tr>").join("")
      : "<tr><td>今天没有预约回电</td></tr>";
  }

  async function loadCurrentCall() {
    const pop = await desk.api("GET", "/api/agent/current-call");
    if (pop) renderPop(pop);
  }

  softphone.start();
  desk.live(onLive, up => { if (up) { refresh().catch(() => {}); } });
  refresh().then(loadCurrentCall).catch(e => desk.toast(e.message));
  loadOrders(); loadDay().catch(() => {});
  loadScheduledCallbacks().catch(() => {});
  setInterval(() => loadScheduledCallbacks().catch(() => {}), 60000);
})();
