// The order screen: one scan input that keeps focus, scans queued in order and sent in batches
// (a burst arrives faster than a round trip), each with an id so a resent batch is not applied
// twice, kept in localStorage until the server has them. Sounds and colours for every answer.
(function () {
  "use strict";
  const root = document.getElementById("pack");
  const input = document.getElementById("scan");
  if (!root || !input) return;
  const GS = "\x1d";
  const scanUrl = root.dataset.scanUrl;
  const storeKey = "pending-scans-" + root.dataset.order;
  const queueInfo = document.getElementById("scan-queue");
  const csrf = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
  let queue = load();
  let inflight = false;
  let altDigits = null;
  let retryDelay = 500;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function save(items) {
    try { localStorage.setItem(storeKey, JSON.stringify(items)); } catch (e) { /* private mode: memory only */ }
  }
  function uuid4() {
    // crypto.randomUUID needs a secure context; warehouse LANs often serve plain http.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- sound and colour ------------------------------------------------------------------------
  let audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [[1046, 0.09]] : kind === "prompt" ? [[660, 0.12], [880, 0.12]]
        : [[196, 0.22], [147, 0.32]];
      let t = audio.currentTime;
      for (const [freq, dur] of tones) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = kind === "error" ? "square" : "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.3, t);
        gain.gain.exponentialRampToValueAtTime(0.001, t + dur);
        osc.connect(gain).connect(audio.destination);
        osc.start(t); osc.stop(t + dur);
        t += dur + 0.05;
      }
    } catch (e) { /* no audio device */ }
  }
  function announce() {
    const fb = document.getElementById("feedback");
    if (!fb || !fb.dataset.state) return;
    beep(fb.dataset.state);
    document.body.classList.remove("flash-ok", "flash-error", "flash-prompt");
    void document.body.offsetWidth; // restart the animation
    document.body.classList.add("flash-" + fb.dataset.state);
    if (fb.dataset.redirect && queue.length === 0) window.location.assign(fb.dataset.redirect);
  }

  // --- the queue of scans ----------------------------------------------------------------------
  function knownVersion() {
    const fb = document.getElementById("feedback");
    return fb ? parseInt(fb.dataset.version, 10) : null;
  }
  function showQueue(extra) {
    const n = queue.length;
    queueInfo.textContent = (n ? root.dataset.msgWaiting.replace("%s", n) : "") + (extra ? " " + extra : "");
    queueInfo.dataset.pending = String(n);
  }
  function enqueue(code) {
    queue.push({ id: uuid4(), code: code });
    save(queue);
    showQueue();
    pump();
  }
  async function pump() {
    if (inflight || queue.length === 0) return;
    inflight = true;
    const batch = queue.slice(0, 100);
    try {
      const resp = await fetch(scanUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "HX-Request": "true", "X-CSRFToken": csrf ? csrf[1] : "" },
        body: JSON.stringify({ scans: batch, version: knownVersion() }),
      });
      if (resp.status === 403 || resp.status === 401) {
        showQueue(root.dataset.msgLogin);
        inflight = false;
        return; // kept in localStorage; sent after logging in again
      }
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const html = await resp.text();
      const sent = new Set(batch.map((s) => s.id));
      queue = queue.filter((s) => !sent.has(s.id));
      save(queue);
      // "partial": the feedback plus out-of-band rows and boxes; "full": the whole panel.
      const partial = resp.headers.get("X-Pack-Update") === "partial";
      htmx.swap(partial ? "#feedback" : "#panel", html, { swapStyle: "outerHTML" });
      retryDelay = 500;
      showQueue();
      announce();
    } catch (e) {
      // Network or server trouble: the same batch (same ids) goes again; nothing is dropped.
      showQueue(root.dataset.msgOffline);
      setTimeout(() => { inflight = false; pump(); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
      return;
    }
    inflight = false;
    if (queue.length) pump();
  }
  // Scans typed while a request was in flight live in `queue` in memory and in storage alike.
  const push = enqueue;

  // --- the scanner's keystrokes ----------------------------------------------------------------
  function insert(text) {
    const s = input.selectionStart ?? input.value.length;
    const e = input.selectionEnd ?? input.value.length;
    input.value = input.value.slice(0, s) + text + input.value.slice(e);
    input.setSelectionRange(s + text.length, s + text.length);
  }
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      const value = input.value;
      input.value = "";
      if (value.replace(/[ \t]/g, "") !== "") push(value);
      return;
    }
    // GS has no key: scanners send Ctrl+], F8 or Alt+0,2,9 on the numpad.
    if ((e.ctrlKey && (e.key === "]" || e.code === "BracketRight")) || e.key === "F8") {
      e.preventDefault();
      insert(GS);
      return;
    }
    if (e.altKey && /^(Numpad|Digit)\d$/.test(e.code)) {
      e.preventDefault();
      altDigits = (altDigits || "") + e.code.slice(-1);
    }
  });
  input.addEventListener("keyup", (e) => {
    if (e.key === "Alt" && altDigits !== null) {
      if (parseInt(altDigits, 10) === 29) insert(GS);
      altDigits = null;
    }
  });

  // --- focus stays on the scan input -----------------------------------------------------------
  function refocus() {
    const a = document.activeElement;
    if (a && a !== input && a.matches("input, select, textarea")) return;
    input.focus({ preventScroll: true });
  }
  document.addEventListener("click", () => setTimeout(refocus, 0));
  document.body.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.xhr && e.detail.target && e.detail.target.id === "panel") announce();
    refocus();
  });
  window.addEventListener("focus", refocus);
  window.addEventListener("online", pump);

  showQueue();
  pump();
  refocus();
})();
