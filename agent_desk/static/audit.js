"use strict";
(() => {
  const $ = id => document.getElementById(id);
  async function load(ev) {
    if (ev) ev.preventDefault();
    const params = new URLSearchParams();
    if ($("audit-actor").value.trim()) params.set("actor", $("audit-actor").value.trim());
    if ($("audit-action").value.trim()) params.set("action", $("audit-action").value.trim());
    try {
      const rows = await desk.api("GET", "/api/audit?" + params);
      $("audit").tBodies[0].innerHTML = rows.map(r => "<tr><td>" + [r.at, r.actor, r.action, r.target, r.source_ip].map(desk.esc).join("</td><td>") + "</td></tr>").join("");
    } catch (e) { desk.toast(e.message); }
  }
  $("audit-form").addEventListener("submit", load);
  load();
})();
