"use strict";
// Hospitals joining the platform and the partners' keys (agent_desk/api/admin_onboarding.py,
// admin_keys.py). A secret is in the answer of its issue or rotation only: shown here once.
(() => {
  const $ = id => document.getElementById(id);
  const path = code => "/api/admin/hospitals/" + encodeURIComponent(code);
  const when = t => t ? new Date(t).toLocaleString("zh-CN", { hour12: false }) : "";
  const outcomes = { accepted: "已接受", refused: "被拒绝" };
  let current = null;
  function showSecret(owner, key) {
    $("onboard-secret-owner").textContent = owner; $("onboard-secret-key-id").textContent = key.key_id;
    $("onboard-secret-value").textContent = key.secret; $("onboard-secret").hidden = false;
  }
  $("onboard-secret-hide").addEventListener("click", () => { $("onboard-secret-value").textContent = ""; $("onboard-secret").hidden = true; });
  async function hospitals() {
    const rows = await desk.api("GET", "/api/admin/onboarding/hospitals");
    $("onboard-hospitals").tBodies[0].innerHTML = rows.map(h => "<tr data-code='" + desk.esc(h.code) + "'><td>" + desk.esc(h.code) + "</td><td>" + desk.esc(h.name) +
      "</td><td>" + desk.esc(h.key_id || "未签发") + "</td><td>" + (h.last_push_at ? when(h.last_push_at) + " " + outcomes[h.last_push_outcome] : "") +
      "</td><td><button type='button' data-onboard='" + desk.esc(h.code) + "'>接入详情</button></td></tr>").join("");
  }
  async function detail(code) {
    const h = await desk.api("GET", path(code) + "/onboarding");
    current = h.code;
    $("onboard-title").textContent = h.code + " " + h.name;
    $("onboard-key-id").textContent = h.key_id || "未签发";
    $("onboard-issue").hidden = !!h.key_id; $("onboard-rotate").hidden = !h.key_id;
    $("onboard-departments").tBodies[0].innerHTML = h.departments.map(d => "<tr><td>" + desk.esc(d.code) + "</td><td>" + desk.esc(d.name) + "</td></tr>").join("");
    $("onboard-doctors").tBodies[0].innerHTML = h.doctors.map(d => "<tr><td>" + desk.esc(d.code) + "</td><td>" + desk.esc(d.name) + "</td><td>" + desk.esc(d.title) +
      "</td><td>" + desk.esc(d.department_code) + "</td></tr>").join("");
    $("onboard-pushes").tBodies[0].innerHTML = h.pushes.map(p => "<tr class='push-" + p.outcome + "'><td>" + when(p.at) + "</td><td>" + desk.esc(p.method + " " + p.path) +
      "</td><td>" + desk.esc(p.key_id) + "</td><td>" + outcomes[p.outcome] + " " + p.status + "</td><td>" + desk.esc((p.error ? p.error + "：" : "") + p.message) + "</td></tr>").join("") ||
      "<tr><td colspan='5' class='muted'>尚无推送</td></tr>";
    $("onboard-detail").hidden = false;
  }
  $("onboard-hospitals").addEventListener("click", ev => {
    const code = ev.target.dataset.onboard; if (code) detail(code).catch(e => desk.toast(e.message));
  });
  $("onboard-hospital-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const made = await desk.api("POST", "/api/admin/hospitals", { code: $("onboard-code").value.trim(), name: $("onboard-name").value,
        level: $("onboard-level").value, district: $("onboard-district").value, address: $("onboard-address").value, phone: $("onboard-phone").value });
      ev.target.reset(); desk.toast("已接入 " + made.name + "，请签发接口密钥"); await hospitals(); await detail(made.code);
    } catch (e) { desk.toast(e.message); }
  });
  async function changeKey(action) {
    if (action === "rotate" && !confirm("轮换 " + current + " 的接口密钥？旧密钥立即失效。")) return;
    try {
      showSecret("医院 " + current, await desk.api("POST", path(current) + "/key", { action }));
      await Promise.all([hospitals(), detail(current)]);
    } catch (e) { desk.toast(e.message); }
  }
  $("onboard-issue").addEventListener("click", () => changeKey("issue"));
  $("onboard-rotate").addEventListener("click", () => changeKey("rotate"));
  $("onboard-refresh").addEventListener("click", () => detail(current).catch(e => desk.toast(e.message)));
  $("onboard-department-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      await desk.api("POST", path(current) + "/departments", { code: $("onboard-dept-code").value.trim(), name: $("onboard-dept-name").value });
      ev.target.reset(); await detail(current);
    } catch (e) { desk.toast(e.message); }
  });
  $("onboard-doctor-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      await desk.api("POST", path(current) + "/doctors", { code: $("onboard-doc-code").value.trim(), name: $("onboard-doc-name").value,
        title: $("onboard-doc-title").value, department_code: $("onboard-doc-dept").value.trim() });
      ev.target.reset(); await detail(current);
    } catch (e) { desk.toast(e.message); }
  });
  async function platformClients() {
    const rows = await desk.api("GET", "/api/admin/city-platform");
    $("platform-clients").tBodies[0].innerHTML = rows.map(c => "<tr><td>" + desk.esc(c.name) + "</td><td>" + desk.esc(c.key_id || "未签发") +
      "</td><td><button type='button' data-platform='" + desk.esc(c.name) + "' data-action='" + (c.key_id ? "rotate" : "issue") + "'>" +
      (c.key_id ? "轮换密钥" : "签发密钥") + "</button></td></tr>").join("");
  }
  async function platformKey(name, action) {
    if (action === "rotate" && !confirm("轮换12345平台客户端 " + name + " 的密钥？旧密钥立即失效。")) return;
    showSecret("12345平台客户端 " + name, await desk.api("POST", "/api/admin/city-platform/" + encodeURIComponent(name) + "/key", { action }));
    await platformClients();
  }
  $("platform-clients").addEventListener("click", ev => {
    const name = ev.target.dataset.platform; if (name) platformKey(name, ev.target.dataset.action).catch(e => desk.toast(e.message));
  });
  $("platform-form").addEventListener("submit", ev => {
    ev.preventDefault();
    platformKey($("platform-name").value.trim(), "issue").then(() => ev.target.reset()).catch(e => desk.toast(e.message));
  });
  Promise.all([hospitals(), platformClients()]).catch(e => desk.toast(e.message));
})();
