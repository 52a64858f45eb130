/* The browser seat's phone (浏览器座席话机): JsSIP over SIP-over-WebSocket to Asterisk.
 *
 * Starts when the console shows the desk (after the token login in console.js) and
 * stops on logout. GET /api/seat says where to register and with which password
 * (the agent's own, from $HOTLINE_AGENT_PASSWORDS); without one the agent types it.
 * The microphone is checked before registering: an agent who cannot speak must not
 * be offered calls. JsSIP reconnects the websocket with back-off (2 s .. 30 s) and
 * re-registers by itself; we only show what happens, in Chinese first.
 *
 * window.hotlinePhone exposes the state and tonePower(freq) (the level of one
 * frequency in what the agent hears, from an AnalyserNode) for tests and diagnostics.
 * The agent's state bar (签入/签出, 示忙/示闲, 话后处理) is seatstate.js; it hears from
 * us through DOM events: hotline:seat-info, hotline:registered, hotline:seat-stopped.
 *
 * A reload during a call re-attaches it: the answered call's dialog (Call-ID and
 * tags) is kept in sessionStorage; the reloaded page, once registered, calls
 * Asterisk with `Replaces:` naming that dialog, and Asterisk swaps the new call
 * in for the old leg in the caller's bridge (RFC 3891). The caller stays connected
 * throughout; the pop comes back from the websocket's resync as before.
 * With `auto_answer` (config webrtc.seats.<agent>) an offered call is answered at once.
 */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const MSG = {
    idle: "未注册 Not registered",
    mic: "正在检查麦克风… Checking microphone",
    connecting: "正在连接电话服务器… Connecting",
    registered: "话机就绪 Phone ready",
    ringing: "来电振铃 Incoming call",
    incall: "通话中 In call",
    held: "已保持 On hold",
    micDenied: "无法使用麦克风：请在浏览器地址栏允许本页使用麦克风，然后点“重新注册”。Microphone blocked.",
    badPassword: "话机密码错误，注册被拒绝：请输入正确的座席话机密码。Wrong phone password.",
    lost: "与电话服务器的连接已断开，正在自动重连… Connection lost, reconnecting",
    noSeat: "本座席使用桌面话机（不是浏览器座席）Desk phone seat",
    failed: "注册失败 Registration failed: ",
  };
  const st = { ua: null, session: null, info: null, muted: false, held: false, ctx: null, analyser: null,
               ringer: null, started: false, lastError: "", reattached: false, ringCallId: null };
  const DIALOG_KEY = "hotline-seat-dialog";
  const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

  /* -- the panel ------------------------------------------------------------ */
  function buildPanel() {
    const box = document.createElement("section");
    box.id = "phone";
    box.className = "phone";
    box.hidden = true;
    box.innerHTML = `
      <span class="phone-title">话机 <small>Phone</small></span>
      <span id="phone-state" class="phone-state" role="status">${MSG.idle}</span>
      <span id="phone-ring" class="phone-ring" hidden></span>
      <button id="phone-answer" type="button" class="primary" hidden title="F2">接听 Answer</button>
      <button id="phone-hangup" type="button" class="danger" hidden title="F4">挂断 Hang up</button>
      <button id="phone-hold" type="button" hidden>保持 Hold</button>
      <button id="phone-mute" type="button" hidden>静音 Mute</button>
      <span id="phone-keypad" class="phone-keypad" hidden></span>
      <span id="phone-error" class="phone-error" role="alert"></span>
      <form id="phone-login" class="phone-login" hidden>
        <label for="phone-password">话机密码 <small>Phone password</small></label>
        <input id="phone-password" type="password" autocomplete="off">
        <button type="submit">重新注册 Register</button>
      </form>
      <audio id="phone-audio" autoplay></audio>`;
    const keypad = box.querySelector("#phone-keypad");
    for (const d of "123456789*0#") {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = d; b.dataset.digit = d;
      b.addEventListener("click", () => dtmf(d));
      keypad.appendChild(b);
    }
    const desk = $("desk");
    desk.parentNode.insertBefore(box, desk);
    $("phone-answer").addEventListener("click", answer);
    $("phone-hangup").addEventListener("click", hangup);
    $("phone-hold").addEventListener("click", toggleHold);
    $("phone-mute").addEventListener("click", toggleMute);
    $("phone-login").addEventListener("submit", (ev) => {
      ev.preventDefault();
      start($("phone-password").value || null);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "F2" && st.session && !st.session.isEstablished()) { ev.preventDefault(); answer(); }
      if (ev.key === "F4" && st.session) { ev.preventDefault(); hangup(); }
    });
  }

  function setState(text) { $("phone-state").textContent = text; }
  function setError(text) { st.lastError = text || ""; $("phone-error").textContent = st.lastError; }
  function showControls() {
    const s = st.session;
    const live = !!s && s.isEstablished();
    $("phone-answer").hidden = !(s && !live && s.direction === "incoming");
    $("phone-hangup").hidden = !s;
    $("phone-hold").hidden = !live;
    $("phone-mute").hidden = !live;
    $("phone-keypad").hidden = !live;
    $("phone-hold").textContent = st.held ? "恢复 Resume" : "保持 Hold";
    $("phone-mute").textContent = st.muted ? "取消静音 Unmute" : "静音 Mute";
    $("phone-ring").hidden = !(s && !live);
  }

  /* -- start / stop ---------------------------------------------------------- */
  async function start(typedPassword) {
    stop();
    st.started = true;
    setError("");
    $("phone").hidden = false;
    const token = sessionStorage.getItem("hotline-token");
    const resp = await fetch("/api/seat", { headers: { Authorization: "Bearer " + token } });
    if (resp.status === 404) {  // a desk-phone agent: nothing to register, no controls
      setState(MSG.noSeat);
      document.querySelector("#phone .phone-agent").hidden = true;
      return;
    }
    if (!resp.ok) { setState(MSG.idle); setError(MSG.failed + resp.status); return; }
    st.info = await resp.json();
    emit("hotline:seat-info", st.info);
    const password = typedPassword || st.info.password;
    if (!password) { setState(MSG.idle); $("phone-login").hidden = false; return; }
    setState(MSG.mic);
    try {  // ask once now: the permission then holds for every call
      const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      probe.getTracks().forEach((t) => t.stop());
    } catch (e) {
      setState(MSG.idle); setError(MSG.micDenied); $("phone-login").hidden = false; return;
    }
    register(password);
  }

  function register(password) {
    const socket = new JsSIP.WebSocketInterface(st.info.ws_url);
    const ua = new JsSIP.UA({
      sockets: [socket], uri: st.info.uri, password, register: true, register_expires: 120,
      session_timers: false, connection_recovery_min_interval: 2, connection_recovery_max_interval: 30,
      user_agent: "hotline-ivr browser seat",
    });
    st.ua = ua;
    setState(MSG.connecting);
    ua.on("connected", () => { if (st.lastError === MSG.lost) setError(""); setState(MSG.connecting); });
    ua.on("disconnected", () => { setState(MSG.idle); setError(MSG.lost); });
    ua.on("registered", () => {
      setError(""); $("phone-login").hidden = true;
      if (!st.session) setState(MSG.registered);
      emit("hotline:registered", st.info);
      reattach(ua);
    });
    ua.on("unregistered", () => { if (st.ua === ua) setState(MSG.idle); });
    ua.on("registrationFailed", (e) => {
      if (e.cause === JsSIP.C.causes.AUTHENTICATION_ERROR || e.cause === JsSIP.C.causes.REJECTED) {
        setError(MSG.badPassword);
        $("phone-login").hidden = false;
        ua.stop();  // no point retrying a wrong password
      } else {
        setError(MSG.failed + e.cause);
      }
      setState(MSG.idle);
    });
    ua.on("newRTCSession", (e) => onSession(e.session, e.request));
    ua.start();
  }

  function stop() {
    stopRinging();
    if (st.session) { try { st.session.terminate(); } catch (e) { /* already gone */ } }
    st.session = null;
    if (st.ua) { const ua = st.ua; st.ua = null; ua.stop(); }
    if (st.started) emit("hotline:seat-stopped", null);
    st.started = false;
  }

  /* -- a reload during a call: call in again with Replaces (RFC 3891) ----------- */
  function keepDialog(session) {
    const d = session._dialog && session._dialog.id;  // JsSIP keeps the dialog id here
    if (d) sessionStorage.setItem(DIALOG_KEY, JSON.stringify({ call_id: d.call_id, local: d.local_tag, remote: d.remote_tag, at: Date.now() }));
  }
  function reattach(ua) {
    const saved = JSON.parse(sessionStorage.getItem(DIALOG_KEY) || "null");
    sessionStorage.removeItem(DIALOG_KEY);
    if (st.reattached || !saved || st.session || Date.now() - saved.at > 6 * 3600 * 1000) return;
    st.reattached = true;  // once per page: a refused re-attach is not retried
    // At Asterisk the old leg's dialog has Asterisk's tag as local (to-tag) and ours as remote (from-tag).
    const replaces = `Replaces: ${saved.call_id};to-tag=${saved.remote};from-tag=${saved.local}`;
    audioContext();
    ua.call(`sip:reattach@${st.info.uri.split("@")[1]}`, {
      extraHeaders: [replaces], mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] },
    });
  }

  /* -- calls ----------------------------------------------------------------- */
  function onSession(session, request) {
    if (st.session) {  // one call at a time: the queue's ringinuse=no should prevent this
      session.terminate({ status_code: 486 });
      return;
    }
    st.session = session; st.muted = false; st.held = false;
    const caller = session.remote_identity && session.remote_identity.uri ? session.remote_identity.uri.user : "";
    const name = session.remote_identity ? session.remote_identity.display_name : "";
    $("phone-ring").textContent = "来电 " + (name && name !== caller ? name + " " : "") + caller;
    // Asterisk names the call in the INVITE (X-Hotline-Call = the pop's call_id): ringpop.js matches them
    const named = session.direction === "incoming" && request ? request.getHeader("X-Hotline-Call") : "";
    st.ringCallId = /^\d{1,20}\.\d{1,10}$/.test(named || "") ? named : null;
    if (session.direction === "incoming") emit("hotline:ring", { call_id: st.ringCallId, caller });
    if (session.connection) attach(session.connection);
    session.on("peerconnection", (e) => attach(e.peerconnection));
    session.on("accepted", () => { stopRinging(); setState(MSG.incall); showControls(); emit("hotline:ring", null); });
    session.on("confirmed", () => { setState(MSG.incall); keepDialog(session); showControls(); });
    session.on("hold", () => { st.held = true; setState(MSG.held); showControls(); });
    session.on("unhold", () => { st.held = false; setState(MSG.incall); showControls(); });
    session.on("ended", () => ended(session));
    session.on("failed", (e) => {
      if (e.cause === JsSIP.C.causes.USER_DENIED_MEDIA_ACCESS) setError(MSG.micDenied);
      ended(session);
    });
    if (session.direction === "incoming") {
      setState(MSG.ringing); startRinging();
      if (st.info && st.info.auto_answer) setTimeout(answer, 200);  // 自动应答: the agent hears the ring start
    } else {
      setState(MSG.connecting);
    }
    showControls();
  }

  function ended(session) {
    if (st.session !== session) return;
    stopRinging();
    st.session = null; st.held = false; st.muted = false; st.ringCallId = null;
    emit("hotline:ring", null);
    $("phone-audio").srcObject = null;
    st.analyser = null;
    sessionStorage.removeItem(DIALOG_KEY);  // ended here: nothing to re-attach after a reload
    setState(st.ua && st.ua.isRegistered() ? MSG.registered : MSG.idle);
    showControls();
  }

  function attach(pc) {
    pc.addEventListener("track", (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      $("phone-audio").srcObject = stream;  // Chrome needs the element playing for WebAudio to get samples
      const ctx = audioContext();
      const src = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 4096;
      analyser.smoothingTimeConstant = 0.5;
      src.connect(analyser);
      st.analyser = analyser;
    });
  }

  function answer() {
    if (!st.session || st.session.isEstablished()) return;
    audioContext();  // created inside the click: allowed to play
    st.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  }
  function hangup() { if (st.session) st.session.terminate(); }
  function toggleHold() {
    if (!st.session) return;
    if (st.held) st.session.unhold(); else st.session.hold();
  }
  function toggleMute() {
    if (!st.session) return;
    if (st.muted) st.session.unmute({ audio: true }); else st.session.mute({ audio: true });
    st.muted = !st.muted;
    showControls();
  }
  function dtmf(digit) {
    if (st.session && st.session.isEstablished()) {
      st.session.sendDTMF(digit, { transportType: JsSIP.C.DTMF_TRANSPORT.RFC2833 });
    }
  }

  /* -- ringing: the China ring cadence (450 Hz, 1 s on, 4 s off) and a flashing title */
  function audioContext() {
    if (!st.ctx) st.ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (st.ctx.state === "suspended") st.ctx.resume();
    return st.ctx;
  }
  function startRinging() {
    stopRinging();
    const title = document.title;
    let n = 0;
    const tick = () => {
      document.title = (n % 2 ? "" : "📞 来电 ") + title;
      if (n % 5 === 0) beep();
      n += 1;
    };
    st.ringer = { timer: setInterval(tick, 1000), title };
    tick();
  }
  function beep() {
    try {
      const ctx = audioContext();
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 450; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 1);
    } catch (e) { /* no audio output: the banner still shows */ }
  }
  function stopRinging() {
    if (!st.ringer) return;
    clearInterval(st.ringer.timer);
    document.title = st.ringer.title;
    st.ringer = null;
  }

  /* -- what the agent hears, at one frequency (dB, -Infinity when silent) ---- */
  function tonePower(freq) {
    if (!st.analyser) return null;
    const bins = new Float32Array(st.analyser.frequencyBinCount);
    st.analyser.getFloatFrequencyData(bins);
    const hz = st.ctx.sampleRate / st.analyser.fftSize;
    const i = Math.round(freq / hz);
    return Math.max(bins[i - 1], bins[i], bins[i + 1]);
  }

  window.hotlinePhone = {
    state: () => ({ registered: !!(st.ua && st.ua.isRegistered()), inCall: !!(st.session && st.session.isEstablished()),
                    ringing: !!(st.session && !st.session.isEstablished()), held: st.held, muted: st.muted,
                    error: st.lastError, status: $("phone-state").textContent,
                    agent: window.hotlineSeat ? window.hotlineSeat.state() : null, reattached: st.reattached,
                    ringCallId: st.ringCallId || null }),
    tonePower, setError,
  };

  /* -- follow the console's login: the desk shown = logged in ---------------- */
  document.addEventListener("DOMContentLoaded", () => {
    buildPanel();
    const desk = $("desk");
    const follow = () => {
      if (!desk.hidden && !st.started) start(null);
      if (desk.hidden && st.started) { stop(); $("phone").hidden = true; }
    };
    new MutationObserver(follow).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
    follow();
  });
})();
