// Evidence at packing: when this workstation's camera is switched on (a setting kept in this browser),
// a photo of the open box is taken at Finish (the button or the CMD-FINISH barcode) and on the
// CMD-PHOTO barcode, and uploaded with the order and the current box. packing.js is untouched: the
// scan input's Enter is read here first (capture phase), before the scan goes to the queue.
(function () {
  "use strict";
  const root = document.getElementById("evidence");
  const toggle = document.getElementById("camera-on");
  const video = document.getElementById("camera");
  const state = document.getElementById("camera-state");
  if (!root || !toggle || !video) return;
  const KEY = "workstation-camera";
  let stream = null;

  function csrfToken() {
    for (const part of document.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (part.slice(0, eq).trim() === "csrftoken") return decodeURIComponent(part.slice(eq + 1).trim());
    }
    return "";
  }
  function say(text, ok) {
    state.textContent = text;
    state.className = ok ? "ok" : "error";
  }
  async function start() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play().catch(() => {});  // autoplay alone left the remembered camera paused: black frames
      say("", true);
    } catch (e) {
      stream = null;
      say(root.dataset.msgNoCamera.replace("%s", e.name || String(e)), false);
    }
  }
  function stop() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
  }
  function nextFrame() {
    // A decoded frame of the stream, or half a second at most (browsers without requestVideoFrameCallback).
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 500);
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => { clearTimeout(timer); resolve(); });
    });
  }
  function hasPicture(canvas) {
    // A paused or starting camera draws an empty (all-black) canvas: some variation means a real picture.
    const probe = document.createElement("canvas");
    probe.width = 32; probe.height = 18;
    const ctx = probe.getContext("2d");
    ctx.drawImage(canvas, 0, 0, probe.width, probe.height);
    const data = ctx.getImageData(0, 0, probe.width, probe.height).data;
    let min = 255, max = 0;
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i] + data[i + 1] + data[i + 2];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return max > 24 && max - min > 12;
  }
  async function frame() {
    // Play the stream and wait for real frames before drawing: up to about three seconds.
    if (!stream) await start();
    if (!stream) return null;
    await video.play().catch(() => {});
    const canvas = document.createElement("canvas");
    for (let attempt = 0; attempt < 6; attempt++) {
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        canvas.getContext("2d").drawImage(video, 0, 0);
        if (hasPicture(canvas)) return canvas;
      }
      await nextFrame();
    }
    return null;
  }
  async function capture(reason) {
    if (!toggle.checked) return;
    const current = document.querySelector(".box.current");  // the box as it is at the scan, before any redraw
    const box = current ? current.dataset.box : "";
    const canvas = await frame();
    if (!canvas) {
      if (stream) say(root.dataset.msgNoPicture, false);  // never "saved" for a black frame
      return;
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    const form = new FormData();
    form.append("image", blob, "box.jpg");
    form.append("reason", reason);
    form.append("box", box);
    try {
      const resp = await fetch(root.dataset.uploadUrl, { method: "POST", body: form, credentials: "same-origin",
                                                         headers: { "X-CSRFToken": csrfToken() } });
      const answer = await resp.json().catch(() => ({}));
      if (resp.status === 201) {
        say(root.dataset.msgTaken, true);
        const photos = document.getElementById("packing-photos");
        if (photos && answer.html) photos.outerHTML = answer.html;  // the new photo shown without a reload
      }
      else say(root.dataset.msgFailed.replace("%s", answer.error || resp.status), false);
    } catch (e) {
      say(root.dataset.msgFailed.replace("%s", String(e)), false);
    }
  }

  toggle.checked = localStorage.getItem(KEY) === "on";
  if (toggle.checked) start();
  toggle.addEventListener("change", () => {
    localStorage.setItem(KEY, toggle.checked ? "on" : "off");
    if (toggle.checked) start(); else stop();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !e.target || e.target.id !== "scan") return;
    const value = e.target.value.trim().toUpperCase();
    if (value === "CMD-FINISH") capture("FINISH");
    else if (value === "CMD-PHOTO") capture("COMMAND");
  }, true);
  document.addEventListener("submit", (e) => {
    const action = e.target.getAttribute && (e.target.getAttribute("hx-post") || e.target.getAttribute("action"));
    if (action === root.dataset.finishUrl) capture("FINISH");
  }, true);
})();
