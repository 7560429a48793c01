// Recordings search and in-page playback; the audio element fetches with HTTP Range requests.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  // The agent's wrap-up (desk.html's choices) and, without one, how the call ended.
  const WRAPUP = { booked: "已预约", cancelled: "已取消预约", answered: "已解答", order: "已建工单",
                   transferred: "已转接", other: "其他" };
  const ENDED = { in_progress: "通话中", answered: "已接通", abandoned_queue: "排队中放弃",
                  short_abandon: "短时放弃", abandoned_ivr: "语音导航中挂机", self_service: "自助办结",
                  voicemail: "留言", callback: "预约回拨", transferred: "已转接", fallback: "应急接待",
                  no_answer: "外呼无人接听", busy: "外呼对方忙", failed: "外呼无法接通", cancelled: "外呼未接通即挂断",
                  refused: "外呼号码被拒绝" };
  const outcome = r => r.wrapup_code ? (WRAPUP[r.wrapup_code] || r.wrapup_code) : (ENDED[r.disposition] || r.disposition);
  $("rec-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const params = new URLSearchParams();
    const put = (k, id) => { const v = $(id).value.trim(); if (v) params.set(k, v); };
    put("date_from", "rec-from"); put("date_to", "rec-to"); put("agent", "rec-agent");
    put("caller_number", "rec-caller"); put("line", "rec-line");
    // "wrapup:order" or "disposition:abandoned_queue": the API's two filters.
    const [field, value] = $("rec-disposition").value.split(":");
    if (value) params.set(field, value);
    try {
      const rows = await desk.api("GET", "/api/recordings?" + params);
      $("recordings").tBodies[0].innerHTML = rows.map(r =>
        "<tr><td>" + desk.esc(r.started_at) + "</td><td>" + desk.esc(r.line) + "</td><td>" + desk.esc(r.agent_number) +
        "</td><td>" + desk.esc(r.caller_number) + "</td><td>" + desk.duration(r.duration_seconds) + "</td><td>" + desk.esc(outcome(r)) +
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
