// One work order: its facts, timeline, linked calls with their recordings (played through the
// desk), and the 回访: place the call, then record the result with that call's recording.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const orderId = $("order-detail").dataset.order;
  const RELATIONS = { intake: "来电", callback: "回访电话", return_call: "回电", repeat: "重复来电",
                      follow_up: "跟进电话", related: "相关通话" };
  const when = iso => iso ? iso.replace("T", " ").slice(0, 16) : "";
  let order = null;

  function render(o) {
    order = o;
    $("order-number").textContent = o.number;
    $("order-state").textContent = "（" + (o.state_label || o.state) + "）";
    const facts = [["标题", o.title], ["来电人", o.caller_name], ["电话", o.caller_phone], ["承办部门", o.department],
                   ["分类", o.category], ["办理时限", when(o.due_at)]];
    $("order-facts").innerHTML = facts.map(([k, v]) => "<dt>" + k + "</dt><dd>" + desk.esc(v || "—") + "</dd>").join("");
    $("order-calls").innerHTML = o.calls.map(c =>
      "<li data-call='" + desk.esc(c.call_id) + "'>" + desk.esc(when(c.linked_at) + " " + (RELATIONS[c.relation] || c.relation)) +
      (c.recording_url ? " <button type='button' data-play='" + desk.esc(c.recording_url) + "'>播放录音</button>" : " <span class='muted'>无录音</span>") +
      "</li>").join("") || "<li class='muted'>暂无</li>";
    $("order-timeline").innerHTML = o.timeline.map(e =>
      "<li>" + desk.esc(when(e.at) + " " + e.actor + " " + e.action + (e.note ? "：" + e.note : "")) + "</li>").join("");
    const awaiting = o.state === "accepted";
    $("revisit-panel").hidden = !awaiting;
    const revisits = o.calls.filter(c => c.relation === "callback" && c.recording_url);
    $("revisit-call").innerHTML = revisits.map(c => "<option value='" + desk.esc(c.call_id) + "'>" + desk.esc(when(c.linked_at)) + " 回访电话</option>").join("")
      || "<option value=''>尚无接通的回访电话</option>";
    $("btn-revisit-done").disabled = !revisits.length;
  }
  async function load() { render(await desk.background("/api/workorders/" + orderId)); }

  $("order-calls").addEventListener("click", ev => {
    const url = ev.target.dataset.play; if (!url) return;
    const player = $("order-player");
    player.src = url; player.dataset.playing = url;
    player.play().catch(() => {});
  });
  $("btn-revisit-call").addEventListener("click", async () => {
    const out = $("revisit-result");
    try {
      const placed = await desk.api("POST", "/api/workorders/" + orderId + "/revisit-call");
      out.className = "result"; out.textContent = placed.message;
    } catch (e) { out.className = "result bad"; out.textContent = "未拨打：" + e.message; }
  });
  $("revisit-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const pick = name => { const el = document.querySelector("input[name='" + name + "']:checked"); return el ? el.value === "true" : null; };
    const body = { call_id: $("revisit-call").value, note: $("revisit-note").value };
    const resolved = pick("resolved"), satisfied = pick("satisfied");
    if (resolved === null || satisfied === null) { desk.toast("请选择是否解决、是否满意"); return; }
    body.resolved = resolved; body.satisfied = satisfied;
    try { render(await desk.api("POST", "/api/workorders/" + orderId + "/actions/callback", body)); desk.toast("回访结果已提交"); }
    catch (e) { desk.toast(e.message); }
  });
  // The 回访 call's recording is linked when the call ends: look again while waiting for it.
  setInterval(() => { if (order && order.state === "accepted") load().catch(() => {}); }, 5000);
  load().catch(e => desk.toast(e.message));
})();
