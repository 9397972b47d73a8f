// Receiving a return: a grade or note chosen but not saved yet survives the table's redraw after each
// scan (packing.js swaps the panel) and a reload: kept in localStorage per return until the server's
// row says the same, shown as "not saved yet" meanwhile.
(function () {
  "use strict";
  const root = document.getElementById("pack");
  if (!root) return;
  const KEY = "return-drafts-" + root.dataset.order;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; }
  }
  function save(drafts) {
    try { localStorage.setItem(KEY, JSON.stringify(drafts)); } catch (e) { /* private mode: this page only */ }
  }
  function fields(form) {
    return { grade: form.elements.grade.value, note: form.elements.note.value };
  }
  function mark(form, unsaved) {
    const hint = form.querySelector(".unsaved");
    if (hint) hint.hidden = !unsaved;
    form.classList.toggle("unsaved-draft", unsaved);
  }
  function apply() {
    const drafts = load();
    let changed = false;
    root.querySelectorAll("form.grade-form").forEach((form) => {
      const draft = drafts[form.dataset.unit];
      if (!draft) { mark(form, false); return; }
      if (draft.grade === form.dataset.savedGrade && draft.note === form.dataset.savedNote) {
        delete drafts[form.dataset.unit];  // the server has it now
        changed = true;
        mark(form, false);
        return;
      }
      const now = fields(form);
      if (now.grade !== draft.grade) form.elements.grade.value = draft.grade;
      if (now.note !== draft.note) form.elements.note.value = draft.note;
      mark(form, true);
    });
    if (changed) save(drafts);
  }
  function remember(e) {
    const form = e.target.closest && e.target.closest("form.grade-form");
    if (!form) return;
    const drafts = load();
    const now = fields(form);
    if (now.grade === form.dataset.savedGrade && now.note === form.dataset.savedNote) delete drafts[form.dataset.unit];
    else drafts[form.dataset.unit] = now;
    save(drafts);
    mark(form, Boolean(drafts[form.dataset.unit]));
  }
  root.addEventListener("change", remember);
  root.addEventListener("input", remember);
  new MutationObserver(apply).observe(root, { childList: true, subtree: true });
  apply();
})();
