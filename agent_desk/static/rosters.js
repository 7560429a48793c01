// Rosters (排班): generate from the forecast, edit an agent's day, see the service level it gives.
"use strict";
const STATUS = { draft: "草稿", published: "已发布" };
const $ = id => document.getElementById(id);
let current = null;

function days(first, last) {
  const out = [];
  for (let d = new Date(first + "T00:00:00Z"); d <= new Date(last + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

function pct(value) { return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%"; }

async function loadList() {
  const rows = await desk.api("GET", "/api/rosters");
  $("roster-list").tBodies[0].innerHTML = rows.map(r =>
    `<tr><td><a href="#${r.id}" data-roster="${r.id}">#${r.id}</a></td><td>${desk.esc(r.line)}</td><td>${desk.esc(r.skill || "全部")}</td>` +
    `<td>${r.first_day} 至 ${r.last_day}</td><td>${STATUS[r.status] || desk.esc(r.status)}</td><td>${r.agent_hours}</td></tr>`).join("");
}

async function loadTemplates() {
  const rows = await desk.api("GET", "/api/shift-templates");
  const kinds = ["day", "night", "weekend", "holiday"];
  const row = t => `<tr data-code="${desk.esc(t.code)}"><td>${t.code ? desk.esc(t.code) : '<input name="code" size="8">'}</td>` +
    `<td><input name="name" size="8" value="${desk.esc(t.name)}"></td>` +
    `<td><select name="kind">${kinds.map(k => `<option${k === t.kind ? " selected" : ""}>${k}</option>`).join("")}</select></td>` +
    `<td><input name="start" size="5" value="${desk.esc(t.start)}"></td><td><input name="minutes" type="number" min="30" max="960" step="30" value="${t.minutes}"></td>` +
    `<td><input name="active" type="checkbox"${t.active ? " checked" : ""}></td><td><button type="button" class="save-template">保存</button></td></tr>`;
  const blank = { code: "", name: "", kind: "day", start: "08:00", minutes: 480, active: true };
  $("template-list").tBodies[0].innerHTML = rows.map(row).join("") + row(blank);
}

async function saveTemplate(tr) {
  const field = name => tr.querySelector(`[name=${name}]`);
  const code = tr.dataset.code || field("code").value.trim();
  $("template-error").textContent = code ? "" : "请填写班次代码";
  if (!code) return;
  try {
    await desk.api("PUT", `/api/shift-templates/${encodeURIComponent(code)}`, {
      name: field("name").value.trim(), kind: field("kind").value, start: field("start").value.trim(),
      minutes: Number(field("minutes").value), active: field("active").checked,
    });
    desk.toast("班次模板已保存");
    await loadTemplates();
  } catch (err) { $("template-error").textContent = err.message; }
}

function renderScore(r) {
  $("roster-sl").textContent = pct(r.service_level);
  $("roster-short").textContent = r.short_half_hours;
  $("roster-hours").textContent = r.agent_hours;
  $("roster-status").textContent = STATUS[r.status] || r.status;
  $("roster-publish").hidden = r.status === "published";
  $("roster-withdraw").hidden = r.status !== "published";
  $("roster-breaches").innerHTML = r.breaches.map(b => `<li class="bad">${desk.esc(b)}</li>`).join("");
  $("roster-halves").tBodies[0].innerHTML = r.half_hours.filter(h => h.calls > 0 || h.staffed < h.need).map(h =>
    `<tr class="${h.staffed < h.need ? "short" : ""}"><td>${h.label}</td><td>${h.calls.toFixed(1)}</td><td>${h.need}</td><td>${h.staffed}</td><td>${pct(h.level)}</td></tr>`).join("");
}

function renderGrid(r) {
  const ds = days(r.first_day, r.last_day);
  const options = [["", "休"], ...Object.entries(r.templates)];
  $("roster-grid").tHead.innerHTML = "<tr><th>坐席</th>" + ds.map(d => `<th>${d.slice(5)}</th>`).join("") + "</tr>";
  $("roster-grid").tBodies[0].innerHTML = r.agents.map(a => "<tr><th>" + desk.esc(a.number + " " + a.name) + "</th>" + ds.map(d => {
    if (r.days_off.includes(`${a.id}/${d}`)) return `<td class="off" title="请假">假</td>`;
    const code = r.cells[`${a.id}/${d}`] || "";
    const opts = options.map(([v, label]) => `<option value="${desk.esc(v)}"${v === code ? " selected" : ""}>${desk.esc(label)}</option>`).join("");
    return `<td><select data-agent="${a.id}" data-day="${d}" aria-label="${desk.esc(a.number)} ${d}">${opts}</select></td>`;
  }).join("") + "</tr>").join("");
}

function renderDayOffForm(r) {
  $("off-agent").innerHTML = r.agents.map(a => `<option value="${a.id}">${desk.esc(a.number + " " + a.name)}</option>`).join("");
  $("off-day").min = r.first_day; $("off-day").max = r.last_day;
  if (!$("off-day").value) $("off-day").value = r.first_day;
}

async function dayOff(method) {
  const agent = $("off-agent").value, day = $("off-day").value;
  try {
    if (method === "PUT") await desk.api("PUT", "/api/days-off", { agent_id: Number(agent), day, reason: $("off-reason").value.trim() });
    else await desk.api("DELETE", `/api/days-off/${agent}/${day}`);
    await open(current.id);
  } catch (err) { $("roster-error").textContent = err.message; }
}

function show(r) {
  current = r;
  renderDayOffForm(r);
  $("roster-card").hidden = false;
  $("roster-title").textContent = `#${r.id} ${r.line} ${r.skill || "全部技能"} ${r.first_day} 至 ${r.last_day}`;
  renderScore(r);
  renderGrid(r);
}

async function open(id) {
  $("roster-error").textContent = "";
  show(await desk.api("GET", `/api/rosters/${id}`));
}

document.addEventListener("DOMContentLoaded", () => {
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  $("plan-first").value = tomorrow;
  $("plan-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    $("plan-error").textContent = "";
    $("plan-go").disabled = true;
    try {
      const r = await desk.api("POST", "/api/rosters", {
        line: $("plan-line").value, skill: $("plan-skill").value.trim(), first_day: $("plan-first").value,
        days: Number($("plan-days").value), min_rest_hours: Number($("plan-rest").value),
        max_days_in_row: Number($("plan-row").value), max_week_hours: Number($("plan-week").value),
      });
      show(r);
      await loadList();
    } catch (err) { $("plan-error").textContent = err.message; }
    finally { $("plan-go").disabled = false; }
  });
  $("roster-list").addEventListener("click", ev => {
    const link = ev.target.closest("[data-roster]");
    if (link) { ev.preventDefault(); open(link.dataset.roster).catch(err => desk.toast(err.message)); }
  });
  $("roster-grid").addEventListener("change", async ev => {
    const sel = ev.target.closest("select[data-agent]");
    if (!sel || !current) return;
    $("roster-error").textContent = "";
    try {
      const r = await desk.api("PUT", `/api/rosters/${current.id}/days`, { agent_id: Number(sel.dataset.agent), day: sel.dataset.day, template_code: sel.value });
      current = r;
      renderScore(r);
      loadList().catch(() => {});
      desk.toast("已调整，预测服务水平 " + pct(r.service_level));
    } catch (err) {
      $("roster-error").textContent = err.message;
      sel.value = current.cells[`${sel.dataset.agent}/${sel.dataset.day}`] || "";
    }
  });
  for (const action of ["publish", "withdraw"]) {
    $("roster-" + action).addEventListener("click", async () => {
      $("roster-error").textContent = "";
      try { show(await desk.api("POST", `/api/rosters/${current.id}/${action}`)); await loadList(); }
      catch (err) { $("roster-error").textContent = err.message; }
    });
  }
  $("off-set").addEventListener("click", () => dayOff("PUT"));
  $("off-clear").addEventListener("click", () => dayOff("DELETE"));
  $("template-list").addEventListener("click", ev => {
    const button = ev.target.closest(".save-template");
    if (button) saveTemplate(button.closest("tr"));
  });
  loadTemplates().catch(err => desk.toast(err.message));
  loadList().catch(err => desk.toast(err.message));
  if (location.hash.length > 1) open(location.hash.slice(1)).catch(err => desk.toast(err.message));
});
