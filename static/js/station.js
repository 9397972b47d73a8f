// The pack station around the scan queue (packing.js): the on-screen keyboard kept shut until asked
// for, this terminal's settings, labels printed from a hidden frame (by themselves once the Market
// has the boxes, again on CMD-LABELS or the button), and each answer read out to screen readers.
(function () {
  "use strict";
  const root = document.getElementById("pack");
  const input = document.getElementById("scan");
  if (!root || !input) return;
  const frame = document.getElementById("print-frame");
  const spoken = document.getElementById("announce");

  // --- this terminal's settings (localStorage: they belong to the device, not to the packer) ---
  const settings = document.getElementById("station-settings");
  settings.hidden = false;
  function bind(id, key) {
    const box = document.getElementById(id);
    box.checked = localStorage.getItem(key) === "1";
    box.addEventListener("change", () => {
      try { localStorage.setItem(key, box.checked ? "1" : "0"); } catch (e) { /* private mode */ }
    });
  }
  bind("enter-as-text", "station:enter-as-text");
  bind("autoprint-off", "station:autoprint-off");

  // --- "type by hand": inputmode="none" keeps a handheld's keyboard shut; this opens it ---------
  const keyboard = document.getElementById("keyboard");
  keyboard.hidden = false;
  keyboard.addEventListener("click", () => {
    const typing = input.getAttribute("inputmode") !== "text";
    input.setAttribute("inputmode", typing ? "text" : "none");
    keyboard.setAttribute("aria-pressed", String(typing));
    input.blur();
    input.focus(); // the keyboard follows the new inputmode only on a new focus
  });

  // --- labels: the PDF into the hidden frame, then the frame's print() ---------------------------
  // Chromium started with --kiosk-printing prints at once to the default printer (README).
  // The PDF is fetched first (an answer that is no PDF, e.g. the Market refused, is said, not
  // printed), then shown in the frame as a blob and printed from there.
  let blobUrl = null;
  async function printLabels(url) {
    const src = url + (url.includes("?") ? "&" : "?") + "t=" + Date.now(); // a reprint loads anew
    root.dataset.printing = src;
    let pdf = null;
    let reason = "";
    try {
      const resp = await fetch(src, { credentials: "same-origin" });
      const type = resp.headers.get("Content-Type") || "";
      if (resp.ok && type.startsWith("application/pdf")) pdf = await resp.blob();
      else if (type.startsWith("text/plain")) reason = await resp.text(); // e.g. a label that cannot be read
    } catch (e) { /* offline: said below */ }
    if (!pdf) {
      root.dataset.printFailed = src;
      // Said in the answer panel, where the packer looks after pressing or scanning: red, sounded,
      // read out and scrolled into view (packing.js's pack:refused).
      const text = reason || root.dataset.msgPrintFailed;
      const fb = document.getElementById("feedback");
      if (fb) {
        const line = document.createElement("p");
        line.className = "error print-problem-line";
        line.textContent = text;
        fb.replaceChildren(line);
        fb.className = "feedback error";
        fb.dataset.state = "error";
        fb.dataset.printProblem = "1";
      }
      root.dispatchEvent(new CustomEvent("pack:refused"));
      say(text);
      return;
    }
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(pdf);
    frame.onload = () => {
      // Headless Chromium under automation (the browser tests) crashes when a PDF frame is asked
      // to print: there the frame gets the labels and the print call is left out.
      if (!navigator.webdriver) {
        try {
          frame.contentWindow.focus();
          frame.contentWindow.print();
        } catch (e) { /* the PDF viewer may refuse scripting: the frame still holds the labels */ }
      }
      root.dataset.printed = src;
      say(root.dataset.msgPrinted);
    };
    frame.src = blobUrl;
  }
  function printedKey(finish) {
    return "labels-printed-" + root.dataset.order + "-" + finish.dataset.layout;
  }
  function checkPrint() {
    const fb = document.getElementById("feedback");
    if (fb && fb.dataset.print && !fb.dataset.printDone) {
      fb.dataset.printDone = "1"; // this answer prints once, whatever swaps follow
      printLabels(fb.dataset.print);
      return;
    }
    const finish = document.getElementById("finish");
    if (!finish || !finish.dataset.autoprint || localStorage.getItem("station:autoprint-off") === "1") return;
    // Once per layout in this tab: the server also stops asking once the labels were fetched.
    if (sessionStorage.getItem(printedKey(finish))) return;
    try { sessionStorage.setItem(printedKey(finish), "1"); } catch (e) { /* private mode */ }
    printLabels(finish.dataset.autoprint);
  }
  document.addEventListener("submit", (e) => {
    if (e.target.id !== "labels-form") return;
    e.preventDefault();
    const params = new URLSearchParams(new FormData(e.target));
    printLabels(e.target.action + "?" + params.toString());
  });

  // --- screen readers: the panel is replaced, so its words are copied into a region that stays --
  function say(text) {
    spoken.textContent = "";
    setTimeout(() => { spoken.textContent = text; }, 50); // a changed text is read even if the same
  }
  function words(id) {
    const el = document.getElementById(id);
    return el ? el.innerText.replace(/\s+/g, " ").trim() : "";
  }
  let saidNext = words("next-step");
  function speakAnswer() {
    saidNext = words("next-step");
    const text = [words("feedback"), saidNext].join(" ").trim();
    if (text) say(text);
  }
  function speakNextIfChanged() {
    // The panel's poll (the Market took the boxes, the order is ready to ship) or the live banner
    // (the Market cancelled it) changed what comes next without a scan: say the new step.
    const now = words("next-step");
    if (now && now !== saidNext) { saidNext = now; say(now); }
  }
  root.addEventListener("pack:answer", () => { speakAnswer(); checkPrint(); });
  document.body.addEventListener("htmx:afterSettle", () => { checkPrint(); speakNextIfChanged(); });
  document.addEventListener("live:changed", speakNextIfChanged);
  checkPrint();
})();
