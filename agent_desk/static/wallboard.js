// The supervisor's wallboard: full state from the API, then live events over WebSocket.
// Any agent or queue event triggers a re-read (coalesced), so the board is right within 1 s.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  let board = null, skewMs = 0, pending = false, adherenceBanner = [];

  function render() {
    if (!board) return;
    const now = (Date.now() + skewMs) / 1000;
    // The centre's alerts (backend.alerts) and the adherence alerts (late or absent agents).
    const alerts = (board.alerts || []).concat(adherenceBanner);
    $("alerts").hidden = !alerts.length;
    $("alerts").innerHTML = alerts.map(a =>
      "<div class='alert alert-" + desk.esc(a.level) + "' data-alert='" + desk.esc(a.code) + "'>" + desk.esc(a.message) + "</div>").join("");
    const sl = board.service_level;
    $("sl-today").textContent = sl.value === null ? "—" : (sl.value * 100).toFixed(1) + "%";
    $("sl-formula").textContent = sl.formula + "（" + sl.answered_within_threshold + " / " + (sl.offered - sl.short_abandoned) + "）";
    const waiting = board.queues.reduce((a, q) => a + q.waiting, 0);
    const longest = board.queues.reduce((a, q) => Math.max(a, q.longest_wait_seconds + (now - board.server_time)), 0);
    $("waiting-total").textContent = waiting;
    $("longest-wait").textContent = waiting ? desk.duration(longest) : "0:00";
    $("queues").tBodies[0].innerHTML = board.queues.map(q =>
      "<tr data-skill='" + desk.esc(q.skill) + "'><td>" + desk.esc(q.name) + "</td><td class='waiting'>" + q.waiting + "</td><td>" +
      (q.waiting ? desk.duration(q.longest_wait_seconds + (now - board.server_time)) : "—") + "</td></tr>").join("");
    const counts = {};
    board.agents.forEach(a => { counts[a.state_label] = (counts[a.state_label] || 0) + 1; });
    $("state-counts").innerHTML = Object.entries(counts).map(([k, v]) => "<dt>" + desk.esc(k) + "</dt><dd data-count='" + desk.esc(k) + "'>" + v + " 人</dd>").join("") || "<dt>暂无坐席签入</dt><dd></dd>";
    $("agents").tBodies[0].innerHTML = board.agents.map(a =>
      "<tr data-agent='" + a.agent_id + "'><td>" + desk.esc(a.number) + "</td><td>" + desk.esc(a.name) + "</td><td>" + desk.esc(a.team) +
      "</td><td class='state state-" + desk.esc(a.state) + "'>" + desk.esc(a.state_label) + (a.reason_label ? "（" + desk.esc(a.reason_label) + "）" : "") +
      "</td><td>" + (a.since ? desk.duration(now - a.since) : "—") + "</td><td>" +
      "<button type='button' data-force='ready' data-id='" + a.agent_id + "'>置闲</button> " +
      "<button type='button' data-force='not_ready' data-id='" + a.agent_id + "'>示忙</button> " +
      "<button type='button' data-force='logged_out' data-id='" + a.agent_id + "'>签出</button> " +
      (["on_call", "on_hold"].includes(a.state) ? "<button type='button' data-listen='" + a.agent_id + "'>监听</button>" : "") +
      "</td></tr>").join("");
  }
  async function load() {
    pending = false;
    board = await desk.api("GET", "/api/supervisor/wallboard");
    skewMs = board.server_time * 1000 - Date.now();
    render();
    await loadEmergencies();
  }
  // Emergency messages: each leaves the board by itself at its end time.
  let emergencies = [];
  async function loadEmergencies() { emergencies = await desk.api("GET", "/api/emergency-messages"); renderEmergencies(); }
  function renderEmergencies() {
    const now = Date.now() + skewMs;
    const shown = emergencies.filter(m => Date.parse(m.ends_at) > now);
    $("emergencies").innerHTML = shown.map(m =>
      "<li class='emergency' data-emergency='" + m.id + "' data-running='" + (Date.parse(m.starts_at) <= now ? 1 : 0) + "'>" +
      desk.esc(m.scope_label + " " + m.target + "：" + (m.text || m.recording) + "（" + m.mode_label + (m.divert_skill ? " " + m.divert_skill : "") +
      "，至 " + new Date(m.ends_at).toLocaleTimeString("zh-CN") + "）") +
      " <button type='button' data-cancel='" + m.id + "'>结束</button></li>").join("") || "<li class='muted'>无</li>";
  }
  $("emergency-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      await desk.api("POST", "/api/emergency-messages", {
        scope: $("em-scope").value, target: $("em-target").value, mode: $("em-mode").value,
        divert_skill: $("em-skill").value, minutes: Number($("em-minutes").value),
        text: $("em-text").value, recording: $("em-recording").value,
      });
      await loadEmergencies();
    } catch (e) { desk.toast(e.message); }
  });
  $("emergencies").addEventListener("click", async ev => {
    const id = ev.target.dataset.cancel;
    if (!id) return;
    try { await desk.api("POST", "/api/emergency-messages/" + id + "/cancel"); await loadEmergencies(); } catch (e) { desk.toast(e.message); }
  });
  function soon() { if (!pending) { pending = true; setTimeout(() => load().catch(e => desk.toast(e.message)), 150); } }

  $("agents").addEventListener("click", async ev => {
    const t = ev.target;
    try {
      if (t.dataset.force) { await desk.api("POST", "/api/supervisor/agents/" + t.dataset.id + "/state", { state: t.dataset.force }); soon(); }
      if (t.dataset.listen) { await desk.api("POST", "/api/supervisor/listen", { agent_id: Number(t.dataset.listen), mode: "listen" }); desk.toast("正在呼叫您的话机以监听"); }
    } catch (e) { desk.toast(e.message); }
  });
  setInterval(() => { render(); renderEmergencies(); }, 1000);
  setInterval(soon, 30000);  // alerts (a disk filling up) come without a live event
  desk.live(msg => {
    if (msg.type === "EmergencyActivated") desk.toast("紧急通知已启用：" + msg.text);
    soon();
    if (msg.type === "AgentStateChanged") adherenceSoon();
  },
            up => { $("live-status").textContent = up ? "已连接" : "重连中…"; document.body.dataset.live = up ? "1" : "0"; });
  async function teamDay() {
    const d = await desk.api("GET", "/api/supervisor/team-day");
    $("team-day").innerHTML = d.items.map(i => "<dt>" + desk.esc(i.label) + "</dt><dd>" + desk.esc(i.value) + "</dd>").join("") || "<dt>暂无数据</dt><dd></dd>";
  }
  // Adherence: re-read on agent events and every 30 s (a shift starts with no event at all);
  // an alert not seen before (late or absent at shift start) is shown as a notice too.
  const seenAlerts = new Set();
  let adherencePending = false;
  const pct = v => v === null ? "—" : (v * 100).toFixed(1) + "%";
  const hm = s => Math.floor(s / 3600) + ":" + String(Math.floor(s % 3600 / 60)).padStart(2, "0");
  const clock = iso => new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  async function adherence() {
    adherencePending = false;
    const d = await desk.api("GET", "/api/supervisor/adherence");
    const fresh = d.alerts.filter(a => !seenAlerts.has(a.agent_id + "@" + a.starts_at + ":" + a.status));
    fresh.forEach(a => seenAlerts.add(a.agent_id + "@" + a.starts_at + ":" + a.status));
    if (fresh.length) desk.toast("排班提醒：" + fresh.map(a => a.name + "（" + a.number + "）" + a.status_label).join("；"));
    adherenceBanner = d.banner;
    render();
    $("adherence-teams").tBodies[0].innerHTML = d.teams.map(t =>
      "<tr data-team='" + desk.esc(t.team) + "'><td>" + desk.esc(t.team) + "</td><td>" + hm(t.scheduled_seconds) + "</td><td>" + hm(t.signed_in_seconds) +
      "</td><td>" + hm(t.ready_seconds) + "</td><td>" + pct(t.sign_in_rate) + "</td><td class='adherence'>" + pct(t.adherence) + "</td><td>" + t.late + "</td><td>" + t.absent + "</td></tr>").join("")
      || "<tr><td colspan='8' class='muted'>今日没有已发布的排班</td></tr>";
    $("adherence").tBodies[0].innerHTML = d.shifts.map(s =>
      "<tr data-agent='" + s.agent_id + "' data-status='" + desk.esc(s.status) + "'><td>" + desk.esc(s.number) + "</td><td>" + desk.esc(s.name) + "</td><td>" + desk.esc(s.team) +
      "</td><td>" + clock(s.starts_at) + "–" + clock(s.ends_at) + "</td><td class='status'>" + desk.esc(s.status_label) + (s.status === "late" ? " " + s.late_minutes + " 分钟" : "") +
      "</td><td>" + hm(s.scheduled_seconds) + "</td><td>" + hm(s.signed_in_seconds) + "</td><td>" + hm(s.ready_seconds) + "</td><td class='adherence'>" + pct(s.adherence) + "</td></tr>").join("");
  }
  function adherenceSoon() { if (!adherencePending) { adherencePending = true; setTimeout(() => adherence().catch(() => {}), 1500); } }
  setInterval(() => adherence().catch(() => {}), 30000);
  adherence().catch(e => desk.toast(e.message));
  load().catch(e => desk.toast(e.message));
  teamDay().catch(() => {});
  setInterval(() => teamDay().catch(() => {}), 60000);
})();
