"use strict";
// The holiday calendar on the admin page (agent_desk/api/admin_calendar.py).
(() => {
  const $ = id => document.getElementById(id);
  const DAY = /^\d{4}-\d{2}-\d{2}$/;
  const rangeText = h => h.name + " " + h.first + (h.last !== h.first ? " " + h.last : "");
  let years = [];
  function parseRanges(text) {
    return text.split("\n").map(l => l.trim()).filter(Boolean).map((line, i) => {
      const parts = line.split(/\s+/), days = parts.filter(p => DAY.test(p)), name = parts.filter(p => !DAY.test(p)).join(" ");
      if (days.length < 1 || days.length > 2) throw new Error("假期第" + (i + 1) + "行“" + line + "”应写作：名称 开始日期 结束日期");
      return { name, first: days[0], last: days[1] || days[0] };
    });
  }
  function parseWorkdays(text) {
    return text.split(/[,，\s]+/).filter(Boolean).map(d => {
      if (!DAY.test(d)) throw new Error("调休上班日“" + d + "”应写作 YYYY-MM-DD");
      return d;
    });
  }
  function showError(message) { $("holiday-error").textContent = message; $("holiday-error").hidden = !message; }
  async function load() {
    const calendar = await desk.api("GET", "/api/admin/holidays");
    years = calendar.years;
    $("holiday-missing").textContent = calendar.missing_message; $("holiday-missing").hidden = !calendar.missing_message;
    $("holiday-years").tBodies[0].innerHTML = years.map(y => "<tr data-year='" + y.year + "'><td>" + y.year + "</td><td>" +
      y.holidays.map(h => desk.esc(rangeText(h))).join("<br>") + "</td><td>" + y.workdays.join("，") +
      "</td><td><button type='button' data-edit='" + y.year + "'>修改</button></td></tr>").join("");
    if (calendar.missing_year && !$("holiday-year").value) $("holiday-year").value = calendar.missing_year;
  }
  $("holiday-years").addEventListener("click", ev => {
    const year = years.find(y => String(y.year) === ev.target.dataset.edit); if (!year) return;
    $("holiday-year").value = year.year;
    $("holiday-ranges").value = year.holidays.map(rangeText).join("\n");
    $("holiday-workdays").value = year.workdays.join(", ");
  });
  $("holiday-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const year = $("holiday-year").value.trim();
      const body = { holidays: parseRanges($("holiday-ranges").value), workdays: parseWorkdays($("holiday-workdays").value) };
      await desk.api("PUT", "/api/admin/holidays/" + encodeURIComponent(year), body);
      showError(""); desk.toast("已保存" + year + "年节假日安排"); await load();
    } catch (e) { showError(e.message); desk.toast(e.message); }
  });
  load().catch(e => showError(e.message));
})();
