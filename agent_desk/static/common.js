// Small helpers every page shares: JSON calls with the common error shape, toast, logout.
"use strict";
const desk = {
  async api(method, url, body, headers) {
    const opts = { method, headers: { "Accept": "application/json", ...headers }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch(url, opts);
    if (resp.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("请先登录"); }
    const text = await resp.text();
    const data = text ? JSON.parse(text) : null;
    if (!resp.ok) {
      let message = (data && data.message) || ("请求失败（" + resp.status + "）");
      if (data && Array.isArray(data.detail)) message = "输入有误：" + data.detail.map(d => d.loc.slice(-1)[0]).join("、");
      // PostgreSQL or Redis down: say so where the agent looks, whatever the page was doing.
      if (resp.status === 503) desk.toast("服务暂时不可用（temporarily unavailable），请稍后重试");
      const err = new Error(message); err.code = data && data.error; err.status = resp.status; throw err;
    }
    return data;
  },
  // A read the page makes by itself (after a live event, on a timer): it does not keep the
  // session from timing out when nobody is at the desk.
  background(url) { return desk.api("GET", url, undefined, { "X-Desk-Background": "1" }); },
  toast(text) {
    const el = document.getElementById("toast");
    el.textContent = text; el.classList.add("show");
    clearTimeout(desk._toastTimer); desk._toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
  },
  esc(value) {
    return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  },
  duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
  },
  live(onMessage, onStatus) {
    // Reconnects after a drop; the page re-reads state on each (re)connect so nothing is missed.
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live";
    const connect = () => {
      const ws = new WebSocket(url);
      ws.onopen = () => onStatus && onStatus(true);
      ws.onmessage = ev => { const msg = JSON.parse(ev.data); if (msg.type === "Subscribed") document.body.dataset.live = "1"; onMessage(msg); };
      ws.onclose = () => { document.body.dataset.live = "0"; onStatus && onStatus(false); setTimeout(connect, 1000); };
    };
    connect();
  },
};
document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", async () => { await desk.api("POST", "/api/auth/logout"); location.href = "/login"; });
});
