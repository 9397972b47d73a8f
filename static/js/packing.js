// The order screen: one scan input that keeps focus, scans queued in order and sent in batches
// (a burst arrives faster than a round trip), each with an id so a resent batch is not applied
// twice, kept in localStorage until a real scan answer says the server has them. Sounds and
// colours for every answer. When the session ends the scans wait and go out after a new login.
(function () {
  "use strict";
  const root = document.getElementById("pack");
  const input = document.getElementById("scan");
  if (!root || !input) return;
  const GS = "\x1d";
  const scanUrl = root.dataset.scanUrl;
  const storeKey = "pending-scans-" + root.dataset.order;
  const queueInfo = document.getElementById("scan-queue");
  const pageToken = (document.body.getAttribute("hx-headers") || "").match(/"X-CSRFToken":\s*"([^"]+)"/);
  const LOGIN_RETRY_MS = 3000;
  let queue = load();
  let inflight = false;
  let altDigits = null;
  let retryDelay = 500;
  let retryTimer = null;
  let sessionLost = false;
  let lostWith = 0; // how many scans waited when the last "log in again" was sounded
  let held = false; // a question is on screen: the scans behind it wait for the answer
  let offline = !navigator.onLine; // no answer from the server: its own large state, not the last green one
  const offlineBox = document.getElementById("offline");
  const offlineCount = document.getElementById("offline-count");

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function save(items) {
    try { localStorage.setItem(storeKey, JSON.stringify(items)); } catch (e) { /* private mode: memory only */ }
  }
  function csrfToken() {
    // Read at send time, not once per page: logging in again (in any tab) replaces the token.
    // Django's default cookie name; CSRF_COOKIE_HTTPONLY stays False for this (settings.py).
    for (const part of document.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (part.slice(0, eq).trim() === "csrftoken") return decodeURIComponent(part.slice(eq + 1).trim());
    }
    return pageToken ? pageToken[1] : "";
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
    // What was sounded, newest last: the station's log of sounds (and what the browser tests read).
    root.dataset.sounds = ((root.dataset.sounds || "") + " " + kind).trim().split(" ").slice(-20).join(" ");
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
  // The answer panel out of sight (a button far down the page, a refusal after printing): brought into view.
  function showFeedback() {
    const fb = document.getElementById("feedback");
    if (!fb) return;
    const r = fb.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) fb.scrollIntoView({ block: "center" });
  }
  function flash(state) {
    document.body.classList.remove("flash-ok", "flash-error", "flash-prompt");
    void document.body.offsetWidth; // restart the animation
    document.body.classList.add("flash-" + state);
  }
  root.addEventListener("pack:refused", () => { beep("error"); flash("error"); showFeedback(); });
  function announce() {
    const fb = document.getElementById("feedback");
    if (!fb || !fb.dataset.state) return;
    // Each refusal of a batch sounds on its own (scans sent after a reconnect), then the last answer.
    const refusals = parseInt(fb.dataset.refusals || "0", 10);
    for (let n = 0; n < refusals; n++) setTimeout(() => beep("error"), n * 700);
    if (!refusals) beep(fb.dataset.state);
    root.dispatchEvent(new CustomEvent("pack:answer"));
    flash(fb.dataset.state);
    if (fb.dataset.state !== "ok") showFeedback();
    if (fb.dataset.redirect && queue.length === 0) window.location.assign(fb.dataset.redirect);
  }

  // --- the queue of scans ----------------------------------------------------------------------
  function knownVersion() {
    const fb = document.getElementById("feedback");
    return fb ? parseInt(fb.dataset.version, 10) : null;
  }
  function setOffline(value) {
    offline = value;
    root.classList.toggle("offline", offline);
    // Pages that share this queue (the returns table) may leave the offline panel out.
    if (offlineBox) offlineBox.hidden = !offline;
    if (offlineCount) offlineCount.textContent = String(queue.length);
  }
  function showQueue(extra) {
    const n = queue.length;
    queueInfo.dataset.pending = String(n);
    if (offlineCount) offlineCount.textContent = String(n);
    queueInfo.classList.toggle("error", sessionLost);
    if (sessionLost) {
      // The packer keeps scanning meanwhile: say how many wait, and where to log in.
      queueInfo.textContent = root.dataset.msgLogin.replace("%s", n) + " ";
      const link = document.createElement("a");
      link.href = root.dataset.loginUrl;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = root.dataset.msgLoginLink;
      queueInfo.append(link);
      return;
    }
    const heldInfo = document.querySelector("#feedback .prompt-held");
    if (held) {
      const text = n ? root.dataset.msgHeld.replace("%s", n) : "";
      queueInfo.textContent = text;
      if (heldInfo) { heldInfo.textContent = text; heldInfo.hidden = !n; }
      return;
    }
    queueInfo.textContent = (n ? root.dataset.msgWaiting.replace("%s", n) : "") + (extra ? " " + extra : "");
  }
  function checkHeld() {
    // Whatever question the server asked: while its buttons are on screen, nothing else is sent.
    const was = held;
    held = !!document.querySelector("#feedback form.prompt");
    showQueue();
    if (was && !held) kick();
  }
  function loggedOut() {
    // Sounded when the session is found gone and for every scan made after that, not for each retry.
    const news = !sessionLost || queue.length > lostWith;
    sessionLost = true;
    lostWith = queue.length;
    showQueue();
    if (news) {
      beep("error");
      document.body.classList.remove("flash-ok", "flash-error", "flash-prompt");
      void document.body.offsetWidth; // restart the animation
      document.body.classList.add("flash-error");
    }
  }
  function loggedIn() {
    sessionLost = false;
    lostWith = 0;
  }
  function enqueue(code) {
    queue.push({ id: uuid4(), code: code });
    save(queue);
    showQueue();
    pump();
  }
  function retry(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(pump, delay);
  }
  async function pump() {
    if (inflight || held || queue.length === 0) return;
    clearTimeout(retryTimer);
    inflight = true;
    const batch = queue.slice(0, 100);
    let outcome;
    try {
      outcome = await send(batch);
    } catch (e) {
      outcome = "offline"; // network trouble: the same batch (same ids) goes again; nothing is dropped
    }
    inflight = false;
    if (outcome === "delivered") {
      retryDelay = 500;
      setOffline(false);
      if (queue.length) pump();
    } else if (outcome === "login") {
      loggedOut(); // kept in localStorage; tried again until a login (in any tab) lets it through
      retry(LOGIN_RETRY_MS);
    } else {
      setOffline(true);
      showQueue(root.dataset.msgOffline);
      retry(retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    }
  }
  async function send(batch) {
    const resp = await fetch(scanUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // a followed redirect ends on the login page with a 200
      headers: { "Content-Type": "application/json", "HX-Request": "true", "X-Requested-With": "XMLHttpRequest",
                 "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ scans: batch, version: knownVersion() }),
    });
    // No session (401, or a redirect from anything in between) or a stale CSRF token (403).
    if (resp.type === "opaqueredirect" || resp.status === 401 || resp.status === 403) return "login";
    // Only the scan view's own answer, marked by its header, says the batch was applied.
    const kind = resp.headers.get("X-Pack-Update");
    if (resp.status !== 200 || (kind !== "partial" && kind !== "full")) return "offline";
    const html = await resp.text();
    // The server stops at a question: the scans after it were not applied and stay queued.
    const done = parseInt(resp.headers.get("X-Pack-Done"), 10);
    const sent = new Set(batch.slice(0, Number.isNaN(done) ? batch.length : done).map((s) => s.id));
    queue = queue.filter((s) => !sent.has(s.id));
    save(queue);
    loggedIn();
    // "partial": the feedback plus out-of-band rows and boxes; "full": the whole panel.
    htmx.swap(kind === "partial" ? "#feedback" : "#panel", html, { swapStyle: "outerHTML" });
    held = !!document.querySelector("#feedback form.prompt");
    showQueue();
    announce();
    return "delivered";
  }
  // Back from another tab (after logging in there) or online again: try now rather than later.
  function kick() {
    if (!inflight && !held && queue.length) pump();
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
  // A station setting (this browser's localStorage: the scanner belongs to the terminal, not to
  // whoever logs in on it): the scanner ends a code with Enter or Tab typed as text, not as a key.
  const enterAsText = () => localStorage.getItem("station:enter-as-text") === "1";
  const END = /[\r\n\t]/;
  function submit(value) {
    if (value.replace(/[ \t\r\n]/g, "") !== "") { push(value); return; }
    // Enter on an empty field after ready to ship opens the next order the screen offers.
    const next = document.querySelector("#done a.next-order");
    if (next && queue.length === 0) window.location.assign(next.href);
  }
  function takeEnded(text) {
    // Everything up to each line break or tab is a scan; what follows stays in the field.
    const parts = text.split(END);
    input.value = parts.pop();
    for (const part of parts) submit(part);
  }
  input.addEventListener("beforeinput", (e) => {
    if (!enterAsText()) return;
    const breaks = e.inputType === "insertLineBreak" || e.inputType === "insertParagraph";
    if (!breaks && !END.test(e.data || "")) return;
    // A text input drops line breaks on its own: the scan is taken before that can happen.
    e.preventDefault();
    const s = input.selectionStart ?? input.value.length;
    takeEnded(input.value.slice(0, s) + (breaks ? "\n" : e.data) + input.value.slice(input.selectionEnd ?? s));
  });
  input.addEventListener("input", () => {
    if (enterAsText() && END.test(input.value)) takeEnded(input.value);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || (e.key === "Tab" && enterAsText() && input.value !== "")) {
      e.preventDefault();
      const value = input.value;
      input.value = "";
      submit(value);
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
    checkHeld(); // an answer (or any other button) replaced the question: the waiting scans go
    refocus();
  });
  // "None of these": the product is put aside, the question goes, the scans behind it are sent.
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-dismiss-prompt]");
    if (!button) return;
    const form = button.closest("form.prompt");
    if (form) form.remove();
    checkHeld();
  });
  window.addEventListener("focus", refocus);
  window.addEventListener("focus", kick);
  window.addEventListener("online", () => { if (queue.length) kick(); else setOffline(false); });
  window.addEventListener("offline", () => setOffline(true));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) kick(); });
  // The panel's htmx forms and polls: the token of now, and "log in again" when the session is gone.
  document.body.addEventListener("htmx:configRequest", (e) => { e.detail.headers["X-CSRFToken"] = csrfToken(); });
  document.body.addEventListener("htmx:responseError", (e) => {
    const status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 401 || status === 403) loggedOut();
  });
  document.body.addEventListener("htmx:afterRequest", (e) => {
    if (!e.detail.successful || !sessionLost) return;
    if (queue.length) { kick(); return; } // the session is back: the kept scans go now
    loggedIn();
    showQueue();
  });
  // Plain forms (refresh, send again, language, log out) post the token of now as well.
  document.addEventListener("submit", (e) => {
    const field = e.target.querySelector && e.target.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) field.value = csrfToken();
  }, true);

  setOffline(offline);
  checkHeld();
  pump();
  refocus();
})();
