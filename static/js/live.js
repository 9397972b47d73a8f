// Regions that follow the Market: every element with data-live-url asks it again every
// data-live-every seconds, sending the ETag of what it shows (If-None-Match). The server answers
// 304 while nothing changed (one indexed read), or the region's new content, which replaces the
// old. Polling holds nothing on the server between two asks (no thread, no transaction), which
// is why it was chosen over Server-Sent Events (README, "Open screens follow the Market").
(function () {
  "use strict";
  const MIN_MS = 500;
  // The order screen's scans (packing.js's "pack:answer", caught on its way down): an answer just
  // came, and it carries the order's state (a cancelled order refuses the scan and says why).
  let lastAnswer = 0;
  document.addEventListener("pack:answer", () => { lastAnswer = Date.now(); }, true);

  function follow(el) {
    const every = Math.max(MIN_MS, parseFloat(el.dataset.liveEvery || "2") * 1000);
    // data-live-quiet: while scans are answered, ask only this often (the answers say the rest).
    const quiet = parseFloat(el.dataset.liveQuiet || "0") * 1000;
    let lastAsked = Date.now();
    let etag = "";
    let timer = null;
    let busy = false;

    function schedule() {
      if (timer === null && !document.hidden) timer = setTimeout(ask, every);
    }

    function key(box) {
      return (box.form ? box.form.action : "") + " " + box.name + "=" + box.value;
    }

    function busyHere() {
      // Someone is typing or choosing in the region (a decision half made): not now.
      const active = document.activeElement;
      return el.contains(active) && active.matches("select, textarea, input:not([type=checkbox]):not([type=radio])");
    }

    function swap(html) {
      // What the person ticked stays ticked (the queue's checkboxes for a sheet, a confirmation).
      const ticked = new Set(Array.from(el.querySelectorAll("input[type=checkbox]:checked"), key));
      // And what they typed and not yet sent (a signatory, a count) stays as typed.
      const fields = "input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea";
      const where = (f) => (f.form ? f.form.action : "") + " " + f.name;
      const typed = new Map();
      el.querySelectorAll(fields).forEach((f) => { if (f.value !== f.defaultValue) typed.set(where(f), f.value); });
      el.innerHTML = html;
      // Regions elsewhere on the page the answer brings along (the order's header, its next step),
      // marked as htmx marks them: each replaces the element of its id.
      el.querySelectorAll("[hx-swap-oob][id]").forEach((fresh) => {
        const old = Array.from(document.querySelectorAll("#" + CSS.escape(fresh.id))).find((x) => !el.contains(x));
        fresh.removeAttribute("hx-swap-oob");
        if (old) old.replaceWith(fresh);
        else fresh.remove();
      });
      el.querySelectorAll("input[type=checkbox]").forEach((box) => {
        if (ticked.has(key(box))) box.checked = true;
      });
      el.querySelectorAll(fields).forEach((f) => { if (typed.has(where(f))) f.value = typed.get(where(f)); });
      if (window.htmx) window.htmx.process(el);
      el.dispatchEvent(new CustomEvent("live:changed", { bubbles: true }));
    }

    async function ask() {
      timer = null;
      if (busy || document.hidden) return;
      const now = Date.now();
      if (quiet && now - lastAnswer < every && now - lastAsked < quiet) {
        schedule();
        return;
      }
      lastAsked = now;
      busy = true;
      try {
        const headers = { "Accept": "text/html" };
        if (etag) headers["If-None-Match"] = etag;
        const resp = await fetch(el.dataset.liveUrl, { headers: headers, cache: "no-store",
          credentials: "same-origin", redirect: "error" });
        if (resp.status === 200 && !busyHere()) { // else the old ETag: the change comes next time
          swap(await resp.text());
          etag = resp.headers.get("ETag") || "";
        }
      } catch (e) {
        // Offline, or the session ended (a redirect to the login page): ask again later.
      } finally {
        busy = false;
        schedule();
      }
    }

    document.addEventListener("visibilitychange", () => {
      // A hidden tab costs the server nothing; back in sight, it asks at once.
      if (!document.hidden && timer === null && !busy) ask();
    });
    schedule(); // the page was drawn just now: the first ask can wait its turn

  }

  document.querySelectorAll("[data-live-url]").forEach(follow);
})();
