// Recordings search and in-page playback; the audio element fetches with HTTP Range requests.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  $("rec-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const params = new URLSearchParams();
    const put = (k, id) => { const v = $(id).value.trim(); if (v) params.set(k, v); };
    put("date_from", "rec-from"); put("date_to", "rec-to"); put("agent", "rec-agent");
    put("caller_number", "rec-caller"); put("line", "rec-line"); put("disposition", "rec-disposition");
    try {
      const rows = await desk.api("GET", "/api/recordings?" + params);
      $("recordings").tBodies[0].innerHTML = rows.map(r =>
        "<tr><td>" + desk.esc(r.started_at) + "</td><td>" + desk.esc(r.line) + "</td><td>" + desk.esc(r.agent_number) +
        "</td><td>" + desk.esc(r.caller_number) + "</td><td>" + desk.duration(r.duration_seconds) + "</td><td>" + desk.esc(r.wrapup_code || r.disposition) +
        "</td><td><button type='button' data-play='" + r.id + "'>播放</button> <a href='/api/recordings/" + r.id + "/audio?download=true'>下载</a></td></tr>").join("")
        || "<tr><td colspan='7' class='muted'>没有符合条件的录音</td></tr>";
    } catch (e) { desk.toast(e.message); }
  });
  $("recordings").addEventListener("click", ev => {
    const id = ev.target.dataset.play; if (!id) return;
    const player = $("player");
    player.src = "/api/recordings/" + id + "/audio";
    player.dataset.recording = id;
    player.play().catch(() => {});
  });
})();
