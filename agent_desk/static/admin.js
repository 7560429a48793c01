"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const roles = { agent: "坐席", supervisor: "班组长", admin: "管理员", auditor: "审计员", hospital: "医院操作员", manager: "卫健委管理人员", department: "承办单位" };
  async function users() {
    const rows = await desk.api("GET", "/api/admin/users");
    $("users").tBodies[0].innerHTML = rows.map(u => "<tr><td>" + desk.esc(u.username) + "</td><td>" + desk.esc(u.display_name) + "</td><td>" + roles[u.role] +
      "</td><td>" + desk.esc(u.team) + "</td><td>" + (u.active ? "启用" : "停用") + (u.locked ? "，已锁定" : "") + (u.must_change_password ? "，待改初始密码" : "") +
      "</td><td>" + (u.locked ? "<button type='button' data-unlock='" + u.id + "'>解锁</button> " : "") +
      "<button type='button' data-active='" + u.id + "' data-to='" + (!u.active) + "'>" + (u.active ? "停用" : "启用") + "</button>" +
      (secondFactor.includes(u.role) && !u.has_totp ? " <button type='button' data-link='" + u.id + "'>动态口令绑定链接</button>" : "") + "</td></tr>").join("");
  }
  const secondFactor = ["admin", "auditor", "supervisor", "manager"];
  const kinds = { create: "新建", reset_password: "重置密码", reset_totp: "重置动态口令" };
  async function approvals() {
    const rows = await desk.api("GET", "/api/admin/approvals");
    $("approvals").tBodies[0].innerHTML = rows.map(a => "<tr><td>" + kinds[a.kind] + "</td><td>" + desk.esc(a.username) + "</td><td>" + roles[a.role] +
      "</td><td><button type='button' data-approve='" + a.approval_id + "'>批准</button></td></tr>").join("");
  }
  $("approvals").addEventListener("click", async ev => {
    const id = ev.target.dataset.approve; if (!id) return;
    try { await desk.api("POST", "/api/admin/approvals/" + id + "/approve"); desk.toast("已批准"); await Promise.all([approvals(), users()]); } catch (e) { desk.toast(e.message); }
  });
  async function skills() {
    const rows = await desk.api("GET", "/api/admin/skills");
    const num = (s, f) => "<input type='number' size='5' data-skill='" + desk.esc(s.code) + "' data-field='" + f + "' value='" + s[f] + "'>";
    // The overflow target: any other skill, or none ("" clears it).
    const overflow = s => "<select data-skill='" + desk.esc(s.code) + "' data-field='overflow_skill'><option value=''>不溢出</option>" +
      rows.filter(o => o.code !== s.code).map(o => "<option value='" + desk.esc(o.code) + "'" + (o.code === s.overflow_skill ? " selected" : "") + ">" + desk.esc(o.code) + "</option>").join("") + "</select>";
    $("skills").tBodies[0].innerHTML = rows.map(s => "<tr><td>" + desk.esc(s.code) + "</td><td>" + desk.esc(s.name) + "</td><td>" + desk.esc(s.line) + "</td><td>" +
      num(s, "wrapup_seconds") + "</td><td>" + num(s, "sl_threshold_seconds") + "</td><td>" + overflow(s) + "</td><td>" + num(s, "overflow_after_seconds") + "</td><td>" + num(s, "max_wait_seconds") +
      "</td><td><button type='button' data-save='" + desk.esc(s.code) + "'>保存</button></td></tr>").join("");
  }
  const phoneKinds = { browser: "浏览器软电话", desk: "桌面话机" };
  const skillText = skills => Object.entries(skills).map(([k, v]) => k + "=" + v).join(",");
  function parseSkills(text) {
    const skills = {};
    for (const part of text.split(/[,，\s]+/).filter(Boolean)) {
      const m = /^([A-Za-z0-9_-]+)=(\d{1,2})$/.exec(part);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 10) throw new Error("技能“" + part + "”格式不对：应为 代码=等级，等级1–10");
      skills[m[1]] = Number(m[2]);
    }
    return skills;
  }
  function showSecret(phone) {
    $("secret-username").textContent = phone.username; $("secret-password").textContent = phone.password;
    $("secret-domain").textContent = phone.domain; $("secret-ws").textContent = phone.ws_url;
    $("phone-secret").hidden = false;
  }
  $("secret-hide").addEventListener("click", () => { $("secret-password").textContent = ""; $("phone-secret").hidden = true; });
  async function agents() {
    const rows = await desk.api("GET", "/api/admin/agents");
    const input = (a, f, v, size) => "<input data-agent='" + desk.esc(a.number) + "' data-field='" + f + "' value='" + desk.esc(v) + "' size='" + size + "'>";
    $("agents-admin").tBodies[0].innerHTML = rows.map(a => "<tr data-number='" + desk.esc(a.number) + "'><td>" + desk.esc(a.number) + "</td><td>" + input(a, "name", a.name, 8) +
      "</td><td>" + input(a, "team", a.team, 6) + "</td><td>" + input(a, "skills", skillText(a.skills), 24) +
      "</td><td><input type='checkbox' data-agent='" + desk.esc(a.number) + "' data-field='auto_answer'" + (a.auto_answer ? " checked" : "") + "></td><td>" +
      desk.esc(a.username || "") + "</td><td>" + desk.esc(a.phone_kind ? phoneKinds[a.phone_kind] : a.interface) + "</td><td>" + (a.active ? "启用" : "停用") +
      "</td><td><button type='button' data-save-agent='" + desk.esc(a.number) + "'>保存</button> " +
      (a.phone_kind && a.active ? "<button type='button' data-rotate='" + desk.esc(a.number) + "'>重置话机密码</button> " : "") +
      "<button type='button' data-agent-active='" + desk.esc(a.number) + "' data-to='" + (!a.active) + "'>" + (a.active ? "停用" : "启用") + "</button></td></tr>").join("");
  }
  $("agents-admin").addEventListener("click", async ev => {
    const t = ev.target, path = n => "/api/admin/agents/" + encodeURIComponent(n);
    try {
      if (t.dataset.saveAgent) {
        const n = t.dataset.saveAgent, field = f => document.querySelector("[data-agent='" + n + "'][data-field='" + f + "']");
        await desk.api("PATCH", path(n), { name: field("name").value, team: field("team").value, skills: parseSkills(field("skills").value), auto_answer: field("auto_answer").checked });
        desk.toast("已保存坐席 " + n);
      } else if (t.dataset.rotate) {
        if (!confirm("重置工号 " + t.dataset.rotate + " 的话机密码？旧密码立即失效。")) return;
        showSecret(await desk.api("POST", path(t.dataset.rotate) + "/phone-secret"));
      } else if (t.dataset.agentActive) {
        await desk.api("PATCH", path(t.dataset.agentActive), { active: t.dataset.to === "true" });
      } else return;
      await agents();
    } catch (e) { desk.toast(e.message); }
  });
  $("agent-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const created = await desk.api("POST", "/api/admin/agents", { number: $("agent-number").value.trim(), name: $("agent-name").value, team: $("agent-team").value,
        skills: parseSkills($("agent-skills").value), username: $("agent-username").value.trim() || null, phone_kind: $("agent-phone-kind").value,
        auto_answer: $("agent-auto-answer").checked });
      showSecret(created.phone); ev.target.reset(); await agents();
    } catch (e) { desk.toast(e.message); }
  });
  $("users").addEventListener("click", async ev => {
    const t = ev.target;
    try {
      if (t.dataset.unlock) await desk.api("PATCH", "/api/admin/users/" + t.dataset.unlock, { unlock: true });
      if (t.dataset.active) await desk.api("PATCH", "/api/admin/users/" + t.dataset.active, { active: t.dataset.to === "true" });
      if (t.dataset.link) {
        const link = await desk.api("POST", "/api/admin/users/" + t.dataset.link + "/totp-link");
        $("totp-link-url").textContent = location.origin + link.url; $("totp-link").hidden = false;
      }
      await users();
    } catch (e) { desk.toast(e.message); }
  });
  $("skills").addEventListener("click", async ev => {
    const code = ev.target.dataset.save; if (!code) return;
    const body = {};
    document.querySelectorAll("input[data-skill='" + code + "']").forEach(i => { body[i.dataset.field] = Number(i.value); });
    document.querySelectorAll("select[data-skill='" + code + "']").forEach(i => { body[i.dataset.field] = i.value; });
    try { await desk.api("PATCH", "/api/admin/skills/" + encodeURIComponent(code), body); desk.toast("已保存"); } catch (e) { desk.toast(e.message); }
  });
  $("user-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const made = await desk.api("POST", "/api/admin/users", { username: $("new-username").value, display_name: $("new-display").value,
        role: $("new-role").value, team: $("new-team").value, password: $("new-password").value });
      desk.toast(made.status === "pending" ? "已提交，须另一位管理员批准后生效" : "已新建用户，首次登录须修改初始密码");
      ev.target.reset(); await Promise.all([users(), approvals()]);
    } catch (e) { desk.toast(e.message); }
  });
  async function hospitals() {
    const rows = await desk.api("GET", "/api/admin/hospitals");
    $("hospitals").tBodies[0].innerHTML = rows.map(h => "<tr><td>" + desk.esc(h.code) + "</td><td>" + desk.esc(h.name) + "</td><td>" + desk.esc(h.phone) +
      "</td><td><textarea rows='2' cols='40' data-notes='" + h.id + "'>" + desk.esc(h.booking_notes) + "</textarea></td><td>" + (h.active ? "接入" : "停用") +
      "</td><td><button type='button' data-hospital='" + h.id + "'>保存</button></td></tr>").join("");
  }
  async function notices() {
    const rows = await desk.api("GET", "/api/admin/announcements");
    const now = Date.now();
    $("notices").innerHTML = rows.map(n => {
      const live = !n.expires_at || Date.parse(n.expires_at) > now;
      return "<li>" + desk.esc(n.title) + "：" + desk.esc(n.body) + (live ? " <button type='button' data-withdraw='" + n.id + "'>撤下</button>" : " <span class='muted'>（已撤下）</span>") + "</li>";
    }).join("") || "<li class='muted'>暂无公告</li>";
  }
  $("hospitals").addEventListener("click", async ev => {
    const id = ev.target.dataset.hospital; if (!id) return;
    try { await desk.api("PATCH", "/api/admin/hospitals/" + id, { booking_notes: document.querySelector("textarea[data-notes='" + id + "']").value }); desk.toast("已保存"); }
    catch (e) { desk.toast(e.message); }
  });
  $("notices").addEventListener("click", async ev => {
    const id = ev.target.dataset.withdraw; if (!id) return;
    try { await desk.api("POST", "/api/admin/announcements/" + id + "/withdraw"); await notices(); } catch (e) { desk.toast(e.message); }
  });
  $("notice-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try { await desk.api("POST", "/api/admin/announcements", { title: $("notice-title").value, body: $("notice-body").value }); ev.target.reset(); await notices(); }
    catch (e) { desk.toast(e.message); }
  });
  async function prompts() {
    const rows = await desk.api("GET", "/api/admin/prompts");
    $("prompts").tBodies[0].innerHTML = rows.map(p => "<tr><td>" + desk.esc(p.line) + "</td><td>" + desk.esc(p.id) + (p.overridden ? "（已修改）" : "") +
      "</td><td><textarea rows='2' cols='60' data-prompt='" + desk.esc(p.id) + "'>" + desk.esc(p.text) + "</textarea></td><td><button type='button' data-save-prompt='" +
      desk.esc(p.id) + "'>保存并合成</button></td></tr>").join("");
  }
  $("prompts").addEventListener("click", async ev => {
    const id = ev.target.dataset.savePrompt; if (!id) return;
    const text = document.querySelector("textarea[data-prompt='" + id + "']").value.trim();
    try {
      ev.target.disabled = true;
      await desk.api("PUT", "/api/admin/prompts/" + id.split("/").map(encodeURIComponent).join("/"), { text: text || null });
      desk.toast("已保存，语音已重新合成"); await prompts();
    } catch (e) { desk.toast(e.message); } finally { ev.target.disabled = false; }
  });
  const SMS_LABELS = { "booking-made": "预约成功", "booking-cancelled": "预约取消", "booking-resend": "重发预约",
    "reminder": "就诊提醒", "callback-scheduled": "预约回电", "callback-missed": "回电未接通", "workorder-filed": "工单受理" };
  async function smsTemplates() {
    const rows = await desk.api("GET", "/api/admin/sms-templates");
    $("sms-templates").tBodies[0].innerHTML = rows.map(t => "<tr><td>" + desk.esc(SMS_LABELS[t.event] || t.event) + (t.overridden ? "（已修改）" : "") +
      "</td><td><textarea rows='3' cols='60' data-sms='" + desk.esc(t.event) + "'>" + desk.esc(t.text) + "</textarea></td><td>" +
      desk.esc(t.placeholders.map(p => "{" + p + "}").join(" ")) + "</td><td><button type='button' data-save-sms='" + desk.esc(t.event) + "'>保存</button></td></tr>").join("");
  }
  $("sms-templates").addEventListener("click", async ev => {
    const event = ev.target.dataset.saveSms; if (!event) return;
    const text = document.querySelector("textarea[data-sms='" + event + "']").value.trim();
    try {
      await desk.api("PUT", "/api/admin/sms-templates/" + encodeURIComponent(event), { text: text || null });
      desk.toast("已保存"); await smsTemplates();
    } catch (e) { desk.toast(e.message); }
  });
  Promise.all([users(), approvals(), skills(), agents(), hospitals(), notices(), prompts(), smsTemplates()]).catch(e => desk.toast(e.message));
})();
