"use strict";
(() => {
  const error = document.getElementById("login-error");
  const go = state => { location.href = state.next; };
  const guard = fn => async ev => { ev.preventDefault(); error.textContent = ""; try { await fn(); } catch (e) { error.textContent = e.message; } };
  const form = document.getElementById("login-form");
  // A TOTP enrolment link (/login?enrol=…): kept for the code step, out of the address bar.
  const enrol = new URLSearchParams(location.search).get("enrol");
  if (enrol) { sessionStorage.setItem("cc.enrol", enrol); history.replaceState(null, "", "/login"); }
  if (form) {
    // The phone chosen last time on this computer is the likely one today.
    const saved = localStorage.getItem("cc.phone");
    const radio = saved && form.querySelector("input[name=phone][value='" + saved + "']");
    if (radio) radio.checked = true;
    form.addEventListener("submit", guard(async () => {
      const phone = form.querySelector("input[name=phone]:checked").value;
      localStorage.setItem("cc.phone", phone);
      go(await desk.api("POST", "/api/auth/login", { username: document.getElementById("username").value, password: document.getElementById("password").value, phone }));
    }));
  }
  const totp = document.getElementById("totp-form");
  if (totp) {
    const show = me => { if (me.totp_uri) { document.getElementById("totp-enrol").hidden = false; document.getElementById("totp-uri").textContent = me.totp_uri; } };
    const link = sessionStorage.getItem("cc.enrol");
    sessionStorage.removeItem("cc.enrol");
    const started = link ? desk.api("POST", "/api/auth/totp/enrolment", { link }) : desk.api("GET", "/api/auth/me");
    started.then(show).catch(e => { error.textContent = e.message; });
    totp.addEventListener("submit", guard(async () => go(await desk.api("POST", "/api/auth/totp", { code: document.getElementById("totp-code").value }))));
  }
  const pw = document.getElementById("password-form");
  if (pw) pw.addEventListener("submit", guard(async () => {
    const next = document.getElementById("new-password").value;
    if (next !== document.getElementById("new-password2").value) throw new Error("两次输入的新密码不一致");
    go(await desk.api("POST", "/api/auth/password", { old_password: document.getElementById("old-password").value, new_password: next }));
  }));
})();
