// The browser softphone: JsSIP (served by the desk from static/vendor) registers as the agent's
// own PJSIP endpoint over Asterisk's WebSocket (/ws) with the credentials of /api/agent/phone.
// The ACD rings it like any phone; a Call-Info "answer-after=0" header on that INVITE means
// the agent chose auto-answer (the controller adds it), so the call connects after a short
// tone. Hold is a SIP re-INVITE (sendonly): Asterisk then plays music on hold to the caller and
// reports the hold over AMI, which puts the agent "on hold" in the ACD. Attended transfer is a
// consultation call followed by REFER with Replaces.
"use strict";
const softphone = (() => {
  const $ = id => document.getElementById(id);
  const STATES = {
    off: "未启用", desk: "使用桌面话机", connecting: "正在连接…", registering: "正在注册…",
    registered: "已注册，可接听", unregistered: "未注册", failed: "注册失败",
    reconnecting: "网络中断，正在重连…", nomic: "麦克风不可用",
  };
  const MIC_REFUSED = "浏览器拒绝了麦克风权限，软电话无法通话。请点击地址栏左侧的站点设置，允许本站使用麦克风，然后刷新页面。";
  const MIC_MISSING = "未检测到麦克风：请插入耳麦后刷新页面。";
  const STORE = { mic: "cc.softphone.mic", speaker: "cc.softphone.speaker" };

  let phone = null;      // /api/agent/phone
  let ua = null;
  let call = null;       // the customer call (JsSIP RTCSession)
  let consult = null;    // the consultation call of an attended transfer
  let holdingForConsult = false; // its dial waits for the customer's hold to go through
  const consultLive = () => !!consult && !consult.isEnded();
  const audio = () => $("phone-audio");

  // Tones through WebAudio: ringing while an ACD call is offered, a short beep on auto-answer.
  const tones = (() => {
    let ctx = null, ringTimer = null;
    const context = () => (ctx = ctx || new (window.AudioContext || window.webkitAudioContext)());
    function beep(freq, seconds, volume = 0.15) {
      try {
        const c = context(), osc = c.createOscillator(), gain = c.createGain();
        osc.frequency.value = freq; gain.gain.value = volume;
        osc.connect(gain).connect(c.destination);
        osc.start(); osc.stop(c.currentTime + seconds);
      } catch (e) { /* no audio output: the page still shows the call */ }
    }
    return {
      ring() { this.stop(); const burst = () => { beep(440, 0.4); setTimeout(() => beep(480, 0.4), 450); }; burst(); ringTimer = setInterval(burst, 3000); },
      stop() { clearInterval(ringTimer); ringTimer = null; },
      autoAnswer() { beep(880, 0.15); },
    };
  })();

  function show(state, detail) {
    const el = $("phone-state");
    el.dataset.state = state;
    el.textContent = STATES[state] + (detail ? "（" + detail + "）" : "");
  }
  function error(text) { const el = $("phone-error"); el.textContent = text || ""; el.hidden = !text; }

  function callState() {
    if (!call) return "idle";
    if (call.isEnded()) return "idle";
    if (call.isEstablished()) return call.isOnHold().local ? "held" : "talking";
    return "ringing";
  }
  function render() {
    const state = callState();
    const panel = $("phone-panel");
    panel.dataset.call = state;
    panel.dataset.consult = consultLive() ? (consult.isEstablished() ? "talking" : "calling") : holdingForConsult ? "calling" : "";
    $("phone-incoming").hidden = state !== "ringing";
    $("phone-incall").hidden = !["talking", "held"].includes(state);
    $("btn-phone-hold").textContent = state === "held" ? "恢复通话" : "保持";
    const muted = call && call.isMuted && call.isMuted().audio;
    $("btn-phone-mute").textContent = muted ? "取消静音" : "静音";
    $("phone-consult-state").textContent = panel.dataset.consult === "talking" ? "正在与转接目标通话" :
      panel.dataset.consult === "calling" ? "正在呼叫转接目标…" : "";
    $("btn-consult-complete").hidden = panel.dataset.consult !== "talking";
    $("btn-consult-cancel").hidden = !panel.dataset.consult;
  }

  // A citizen's number is personal data: masked as every desk page masks it (138****5678).
  // A colleague's 工号 (4 to 6 digits, a consultation) is shown as it is.
  function callerOf(session) {
    const user = String((session.remote_identity.uri && session.remote_identity.uri.user) || "");
    if (/^\d{7,}$/.test(user)) return user.slice(0, 3) + "*".repeat(user.length - 7) + user.slice(-4);
    return /^\d{4,6}$/.test(user) ? "坐席 " + user : "未知号码";
  }
  function mediaOptions() {
    const mic = localStorage.getItem(STORE.mic);
    return {
      mediaConstraints: { audio: mic ? { deviceId: { exact: mic } } : true, video: false },
      // Host candidates only: agents and Asterisk share the call centre's network.
      pcConfig: { iceServers: [] },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
    };
  }
  // What the agent hears: the customer, or the transfer target during a consultation.
  const streams = new WeakMap();
  let audible = null;
  function hear(session) {
    audible = session;
    const stream = session && streams.get(session);
    if (!stream) return;
    const el = audio();
    el.srcObject = stream;
    el.play().catch(() => {});
  }
  function playRemote(session) {
    const attach = pc => pc.addEventListener("track", ev => {
      streams.set(session, ev.streams[0] || new MediaStream([ev.track]));
      if (audible === session) hear(session);
    });
    audible = session;
    if (session.connection) attach(session.connection);
    else session.on("peerconnection", ev => attach(ev.peerconnection));
  }
  function wantsAutoAnswer(request) {
    const info = request.getHeader("Call-Info") || "";
    const alert = request.getHeader("Alert-Info") || "";
    return /answer-after\s*=\s*0/i.test(info) || /auto-?answer/i.test(alert);
  }
  function mediaFailure(cause) {
    return cause === JsSIP.C.causes.USER_DENIED_MEDIA_ACCESS ? MIC_REFUSED : "";
  }

  function onIncoming(session, request) {
    if ((call && !call.isEnded()) || consultLive() || holdingForConsult) {
      // One call at a time: the ACD takes busy as "not reached" and offers the call elsewhere.
      session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    call = session;
    playRemote(session);
    $("phone-caller").textContent = callerOf(session);
    session.on("accepted", () => { tones.stop(); render(); });
    session.on("confirmed", render);
    session.on("hold", render); session.on("unhold", render);
    session.on("muted", render); session.on("unmuted", render);
    session.on("ended", () => { tones.stop(); render(); });
    session.on("failed", ev => { tones.stop(); error(mediaFailure(ev.cause)); render(); });
    const auto = wantsAutoAnswer(request);
    $("phone-answer-mode").textContent = auto ? "自动应答 " + callerOf(session) : "";
    if (auto) {
      tones.autoAnswer();
      setTimeout(() => { if (call === session && !session.isEnded()) answer(); }, 400);
    } else {
      tones.ring();
    }
    render();
  }

  function answer() {
    if (!call || call.isEstablished() || call.isEnded()) return;
    tones.stop();
    call.answer(mediaOptions());
    render();
  }
  function hangup() {
    if (consultLive()) consult.terminate();
    if (call && !call.isEnded()) call.terminate();
    tones.stop();
  }
  // A re-INVITE must wait while another offer is under way (Asterisk updates the connected
  // line just after answer): retry for a few seconds instead of dropping the agent's click.
  function whenReadyToReOffer(session, action, tries = 25) {
    if (session.isEnded()) return;
    if (session.isReadyToReOffer()) { action(); return; }
    if (tries <= 0) { desk.toast("话机忙，请稍后重试"); return; }
    setTimeout(() => whenReadyToReOffer(session, action, tries - 1), 200);
  }
  function hold(on, done) {
    if (!call || !call.isEstablished()) return;
    const session = call;
    whenReadyToReOffer(session, () => {
      const started = on ? session.hold({}, done) : session.unhold({}, done);
      if (!started && done && session.isOnHold().local === on) done();
      render();
    });
  }
  function mute(on) {
    if (!call || !call.isEstablished()) return;
    if (on) call.mute({ audio: true }); else call.unmute({ audio: true });
    render();
  }
  function dtmf(key) {
    const target = consultLive() && consult.isEstablished() ? consult : call;
    if (target && target.isEstablished()) target.sendDTMF(key, { transportType: "INFO", duration: 160 });
  }

  // Attended transfer: the customer waits on hold (music) while the agent talks to the target;
  // REFER with Replaces then joins the customer to the target and both agent legs end.
  function startConsult(target) {
    if (!call || !call.isEstablished()) throw new Error("当前没有可转接的通话");
    if (consultLive() || holdingForConsult) throw new Error("已有一个咨询通话");
    // The consultation is dialled once the customer's hold re-INVITE has gone through: two
    // offers at once on one WebSocket race, and the hold could be lost.
    const dial = () => {
      holdingForConsult = false;
      const session = ua.call("sip:" + target + "@" + phone.domain, mediaOptions());
      consult = session;
      playRemote(session);
      session.on("confirmed", render);
      session.on("ended", () => { consultEnded(session); });
      session.on("failed", ev => { desk.toast("转接目标未接通：" + (ev.cause || "")); consultEnded(session); });
      render();
    };
    holdingForConsult = true;
    hold(true, dial);
    setTimeout(() => {
      if (holdingForConsult) { holdingForConsult = false; desk.toast("保持未成功，未发起咨询"); render(); }
    }, 10000);
    render();
  }
  function consultEnded(session) {
    if (consult === session) consult = null;
    // Back to the customer, unless the transfer took him away.
    if (call && !call.isEnded()) hear(call);
    render();
  }
  function completeTransfer() {
    if (!consultLive() || !consult.isEstablished()) throw new Error("转接目标尚未接通");
    const customer = call, target = consult;
    const refer = customer.refer(target.remote_identity.uri, { replaces: target });
    if (!refer) throw new Error("无法发起转接");
    // NOTIFY 200: the customer now talks to the target. The transferor ends its own leg
    // (RFC 5589); Asterisk waits for that BYE before it lets the agent's channel go.
    refer.on("accepted", () => {
      for (const s of [customer, target]) if (!s.isEnded()) s.terminate();
      desk.toast("已转接");
    });
    refer.on("requestFailed", () => desk.toast("转接被拒绝"));
    refer.on("failed", () => desk.toast("转接失败，请与来电人继续通话"));
  }
  function cancelConsult() {
    if (consultLive()) consult.terminate();
    consult = null;
    hold(false);
    render();
  }

  // Microphone and speaker: the choice is kept in this browser; a new microphone applies to
  // the next call, a new speaker at once.
  async function loadDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, stored) => {
      const list = devices.filter(d => d.kind === kind);
      select.innerHTML = list.map((d, i) => "<option value='" + desk.esc(d.deviceId) + "'>" +
        desk.esc(d.label || (kind === "audioinput" ? "麦克风 " : "扬声器 ") + (i + 1)) + "</option>").join("");
      if (stored && list.some(d => d.deviceId === stored)) select.value = stored;
      select.disabled = !list.length;
    };
    fill($("mic-select"), "audioinput", localStorage.getItem(STORE.mic));
    fill($("speaker-select"), "audiooutput", localStorage.getItem(STORE.speaker));
    const speaker = localStorage.getItem(STORE.speaker);
    if (speaker && audio().setSinkId) audio().setSinkId(speaker).catch(() => {});
  }
  async function checkMicrophone() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      stream.getTracks().forEach(t => t.stop());
      return true;
    } catch (e) {
      error(e.name === "NotAllowedError" || e.name === "SecurityError" ? MIC_REFUSED :
        e.name === "NotFoundError" ? MIC_MISSING : "麦克风无法打开：" + e.message);
      show("nomic");
      return false;
    }
  }

  function register() {
    const socket = new JsSIP.WebSocketInterface(phone.ws_url);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: "sip:" + phone.username + "@" + phone.domain,
      authorization_user: phone.username,
      password: phone.password,
      display_name: phone.number,
      register: true,
      register_expires: 120,
      session_timers: false,
      // After a network drop JsSIP reconnects by itself (and registers again), backing off
      // from 2 s to at most 10 s so an agent is back soon after the network is.
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 10,
      user_agent: "CallCenterDesk (JsSIP " + JsSIP.version + ")",
    });
    let everConnected = false;
    ua.on("connecting", () => show(everConnected ? "reconnecting" : "connecting"));
    ua.on("connected", () => { everConnected = true; show("registering"); });
    ua.on("disconnected", () => { show("reconnecting"); });
    ua.on("registered", () => { error(""); show("registered", phone.username); });
    ua.on("unregistered", () => show("unregistered"));
    ua.on("registrationFailed", ev => {
      show("failed", ev.cause === JsSIP.C.causes.REJECTED ? "密码错误或话机已停用" : ev.cause);
    });
    ua.on("newRTCSession", ev => { if (ev.originator === "remote") onIncoming(ev.session, ev.request); });
    ua.start();
  }

  async function start() {
    $("mic-select").addEventListener("change", ev => localStorage.setItem(STORE.mic, ev.target.value));
    $("speaker-select").addEventListener("change", ev => {
      localStorage.setItem(STORE.speaker, ev.target.value);
      if (audio().setSinkId) audio().setSinkId(ev.target.value).catch(e => desk.toast("无法切换扬声器：" + e.message));
    });
    try {
      phone = await desk.api("GET", "/api/agent/phone");
    } catch (e) {
      show("off", e.message);
      return;
    }
    if (phone.kind !== "browser") { show("desk", "工号 " + phone.username); $("phone-panel").dataset.kind = "desk"; return; }
    $("phone-panel").dataset.kind = "browser";
    if (typeof JsSIP === "undefined") { show("off"); error("软电话组件未加载（static/vendor/jssip.min.js），请联系管理员运行 make setup。"); return; }
    JsSIP.debug.disable();
    if (!(await checkMicrophone())) return;
    await loadDevices().catch(() => {});
    navigator.mediaDevices.addEventListener("devicechange", () => loadDevices().catch(() => {}));
    register();
    window.addEventListener("beforeunload", () => { if (ua) ua.stop(); });
  }

  // Receive-side figures of the current call: the page shows them, tests read them.
  async function inboundAudio() {
    const pc = call && call.connection;
    if (!pc) return null;
    const report = await pc.getStats();
    let out = null;
    report.forEach(s => { if (s.type === "inbound-rtp" && s.kind === "audio") out = { packets: s.packetsReceived, lost: s.packetsLost, jitter: s.jitter, level: s.audioLevel }; });
    return out;
  }
  setInterval(async () => {
    const s = await inboundAudio().catch(() => null);
    $("phone-quality").textContent = s ? "收到 " + s.packets + " 个语音包，丢失 " + s.lost + "，抖动 " + Math.round((s.jitter || 0) * 1000) + " 毫秒" : "";
  }, 2000);

  return {
    start, answer, hangup, hold, mute, dtmf, startConsult, completeTransfer, cancelConsult, inboundAudio,
    active: () => !!phone && phone.kind === "browser" && callState() !== "idle",
    held: () => callState() === "held",
    muted: () => !!(call && call.isMuted && call.isMuted().audio),
  };
})();
