// The dock hand-over: every box label scanned is queued with an id, kept in localStorage until the
// server's answer (marked X-Dock-Update) says it has it, and sent in order, in batches. A refusal
// sounds low and paints the page red; a counted box sounds high. The same approach as packing.js.
(function () {
  "use strict";
  const root = document.getElementById("dock");
  const input = document.getElementById("dock-scan");
  if (!root || !input) return;
  const storeKey = "pending-dock-scans-" + root.dataset.shipment;
  const info = document.getElementById("dock-queue");
  let queue = load();
  let inflight = false;
  let retryDelay = 500;
  let timer = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(queue)); } catch (e) { /* memory only */ }
  }
  function csrfToken() {
    for (const part of document.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (part.slice(0, eq).trim() === "csrftoken") return decodeURIComponent(part.slice(eq + 1).trim());
    }
    const field = document.querySelector("#dock-form input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  let audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [[1046, 0.09]] : kind === "warn" ? [[440, 0.15]] : [[196, 0.22], [147, 0.32]];
      let t = audio.currentTime;
      for (const [freq, dur] of tones) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.3, t);
        gain.gain.exponentialRampToValueAtTime(0.001, t + dur);
        osc.connect(gain).connect(audio.destination);
        osc.start(t); osc.stop(t + dur);
        t += dur + 0.05;
      }
    } catch (e) { /* no audio device */ }
  }
  function show(extra) {
    info.dataset.pending = String(queue.length);
    info.textContent = (queue.length ? root.dataset.msgWaiting.replace("%s", queue.length) : "") + (extra ? " " + extra : "");
  }
  function announce() {
    const fb = document.getElementById("dock-feedback");
    if (!fb || !fb.dataset.state) return;
    beep(fb.dataset.state);
    document.body.classList.remove("flash-ok", "flash-error", "flash-prompt");
    void document.body.offsetWidth;
    document.body.classList.add(fb.dataset.state === "ok" ? "flash-ok"
      : fb.dataset.state === "warn" ? "flash-prompt" : "flash-error");
  }
  async function send(batch) {
    const resp = await fetch(root.dataset.scanUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      body: JSON.stringify({ scans: batch }),
    });
    if (resp.type === "opaqueredirect" || resp.status === 401 || resp.status === 403) return "login";
    if (resp.status !== 200 || resp.headers.get("X-Dock-Update") !== "full") return "offline";
    const html = await resp.text();
    const sent = new Set(batch.map((s) => s.id));
    queue = queue.filter((s) => !sent.has(s.id));
    save();
    const panel = document.getElementById("dock-panel");
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const fresh = holder.querySelector("#dock-panel");
    if (panel && fresh) panel.replaceWith(fresh);
    announce();
    return "delivered";
  }
  async function pump() {
    if (inflight || queue.length === 0) return;
    clearTimeout(timer);
    inflight = true;
    let outcome;
    try { outcome = await send(queue.slice(0, 100)); } catch (e) { outcome = "offline"; }
    inflight = false;
    if (outcome === "delivered") {
      retryDelay = 500;
      show();
      if (queue.length) pump();
      return;
    }
    show(outcome === "login" ? root.dataset.msgLogin.replace("%s", queue.length) : root.dataset.msgOffline);
    if (outcome === "login") beep("error");
    timer = setTimeout(pump, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 8000);
  }
  document.getElementById("dock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = input.value.trim();
    input.value = "";
    if (!value) return;
    queue.push({ id: uuid4(), code: value });
    save();
    show();
    pump();
  });
  function kick() { if (!inflight && queue.length) pump(); }
  window.addEventListener("focus", kick);
  window.addEventListener("online", kick);
  document.addEventListener("click", () => setTimeout(() => input.focus({ preventScroll: true }), 0));
  show();
  pump();
})();
