// The quiz page: server-timed countdown, autosave of every click, offline queue, submit dialog.
// Without this script the page still works as a plain form.
(function () {
  "use strict";
  const form = document.getElementById("quiz-form");
  if (!form) return;

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const api = form.dataset.api;
  const msg = (key) => form.dataset["msg" + key];
  const statusEl = document.querySelector('[data-testid="save-status"]');
  const timerEl = document.querySelector('[data-testid="timer"]');
  const storeKey = "quizapp:pending:" + form.dataset.attemptId;
  const fieldsets = Array.from(form.querySelectorAll('[data-testid="question"]'));
  const total = fieldsets.length;

  // --- timer: the server's remaining seconds, counted down on a monotonic clock ----------
  let endsAt = performance.now() + parseFloat(timerEl.dataset.remaining) * 1000;
  let submitting = false;
  const warning = document.getElementById("time-warning");
  function tick() {
    const left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
    const m = Math.floor(left / 60), s = left % 60;
    timerEl.textContent = String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    if (left <= 60 && warning.hidden) {
      timerEl.classList.add("last-minute");
      warning.hidden = false;   // role=alert: announced once, and stays in the sticky bar
    }
    if (left === 0) { finish(); return; }
    setTimeout(tick, 250);
  }
  // A phone that slept may have paused this page's clock: ask the server again on return.
  async function resync() {
    if (submitting || !navigator.onLine) return;
    try {
      const res = await fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      if (body.status && body.status !== "in_progress") { window.location.href = form.dataset.resultUrl; return; }
      endsAt = performance.now() + body.remaining_seconds * 1000;
    } catch (e) { /* keep counting on the local clock */ }
  }
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") resync(); });

  // --- saving ------------------------------------------------------------------------------
  let pending = loadPending();      // question id -> option ids not yet acknowledged
  let inFlight = false;
  let retryDelay = 1000;

  function loadPending() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function storePending() {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function setStatus(state) {
    statusEl.dataset.state = state;
    statusEl.textContent = msg(state.charAt(0).toUpperCase() + state.slice(1));
  }
  function selectionOf(fieldset) {
    return Array.from(fieldset.querySelectorAll("input:checked")).map((i) => parseInt(i.value, 10));
  }
  function updateProgress() {
    let answered = 0;
    fieldsets.forEach((fs) => {
      const done = fs.querySelector("input:checked") !== null;
      if (done) answered++;
      const nav = document.getElementById("nav-" + fs.dataset.questionId);
      if (nav) {
        nav.classList.toggle("answered", done);
        nav.classList.toggle("unanswered", !done);
        nav.setAttribute("aria-label", nav.dataset.label + (done ? "" : " (" + msg("Unanswered") + ")"));
      }
    });
    document.getElementById("progress").value = answered;
    document.getElementById("answered-count").textContent =
      msg("Answered").replace("{a}", answered).replace("{t}", total);
    return answered;
  }

  async function flush() {
    if (inFlight || submitting) return;
    const ids = Object.keys(pending);
    if (ids.length === 0) { setStatus("saved"); return; }
    if (!navigator.onLine) { setStatus("offline"); return; }
    inFlight = true;
    setStatus("saving");
    const qid = ids[0];
    const optionIds = pending[qid];
    try {
      const res = await fetch(api + "/answers/" + qid, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ option_ids: optionIds }),
      });
      if (res.ok) {
        const body = await res.json();
        const fs = form.querySelector('[data-question-id="' + qid + '"]');
        if (fs) fs.dataset.revision = body.revision;
        if (JSON.stringify(pending[qid]) === JSON.stringify(optionIds)) delete pending[qid];
        storePending();
        retryDelay = 1000;
      } else if (res.status === 409) {
        pending = {}; storePending();
        setStatus("closed");
        window.location.href = form.dataset.resultUrl;
        return;
      } else if (res.status === 401) {
        // Logged out (session ended): keep the answers here; the page sends them after a new login.
        setStatus("login");
        inFlight = false;
        return;
      } else if (res.status === 422 || res.status === 404) {
        delete pending[qid]; storePending();   // the server refused this change for good
      } else {
        throw new Error("HTTP " + res.status);
      }
    } catch (e) {
      setStatus(navigator.onLine ? "error" : "offline");
      inFlight = false;
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
      return;
    }
    inFlight = false;
    flush();
  }

  form.addEventListener("change", (event) => {
    const input = event.target;
    if (input.name === "prediction") { savePrediction(input); return; }
    const fs = input.closest('[data-testid="question"]');
    if (!fs) return;
    pending[fs.dataset.questionId] = selectionOf(fs);
    storePending();
    updateProgress();
    flush();
  });

  let predictionRetry = null;
  async function savePrediction(input) {
    clearTimeout(predictionRetry);
    const value = parseInt(input.value, 10);
    if (isNaN(value) || value < 0) return;
    setStatus("saving");
    try {
      const res = await fetch(api + "/prediction", {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ value: value }),
      });
      if (res.status === 401) { setStatus("login"); return; }
      if (res.status === 409) { window.location.href = form.dataset.resultUrl; return; }
      if (res.status >= 500) throw new Error("HTTP " + res.status);
      input.setAttribute("aria-invalid", res.ok ? "false" : "true");   // 422: not a usable number
      if (!inFlight && Object.keys(pending).length === 0) setStatus("saved");
    } catch (e) {
      setStatus(navigator.onLine ? "error" : "offline");
      predictionRetry = setTimeout(() => savePrediction(input), 3000);
    }
  }
  // Enter in the prediction box saves it instead of posting the whole form (which would drop
  // answers still waiting on the phone if the connection is down).
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.name === "prediction") {
      event.preventDefault();
      savePrediction(event.target);
    }
  });

  // Answers left unsent by an earlier visit (offline, closed tab) are shown and sent again.
  Object.entries(pending).forEach(([qid, optionIds]) => {
    const fs = form.querySelector('[data-question-id="' + qid + '"]');
    if (!fs) { delete pending[qid]; return; }
    fs.querySelectorAll("input").forEach((i) => { i.checked = optionIds.includes(parseInt(i.value, 10)); });
  });
  window.addEventListener("online", () => { flush(); resync(); });
  window.addEventListener("offline", () => setStatus("offline"));

  // --- submitting ----------------------------------------------------------------------------
  const dialog = document.getElementById("confirm-dialog");
  const submitButton = form.querySelector('[data-testid="submit-attempt"]');
  submitButton.addEventListener("click", (event) => {
    if (!dialog || typeof dialog.showModal !== "function") return;   // plain post: server confirms
    event.preventDefault();
    const missing = fieldsets.filter((fs) => !fs.querySelector("input:checked"))
      .map((fs) => fs.id.replace("q-", ""));
    const note = document.getElementById("confirm-unanswered");
    // As on the page without script: the numbers, then how many of how many.
    note.textContent = missing.length
      ? note.dataset.some + " " + missing.join(", ") + " (" + missing.length + "/" + total + ")"
      : note.dataset.none;
    note.classList.toggle("warning", missing.length > 0);
    dialog.showModal();
  });
  document.getElementById("confirm-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", (event) => {
    if (!navigator.onLine) {
      // Posting now would fail and lose the answers kept here: post when the connection returns.
      event.preventDefault();
      if (dialog && dialog.open) dialog.close();
      setStatus("offline");
      const submitter = event.submitter;
      window.addEventListener("online", () => form.requestSubmit(submitter), { once: true });
      return;
    }
    submitting = true; pending = {}; storePending();
  });

  function finish() {
    if (submitting) return;
    setStatus("closed");
    if (!navigator.onLine) {
      // The server closes the attempt at its deadline anyway; answers waiting here go with
      // the post once the connection is back (accepted within the grace period).
      window.addEventListener("online", finish, { once: true });
      return;
    }
    // Post the whole form: the server saves what is within grace and submits.
    const action = document.createElement("input");
    action.type = "hidden"; action.name = "action"; action.value = "confirm";
    form.appendChild(action);
    submitting = true;
    pending = {}; storePending();
    form.submit();
  }

  // Every change is saved at once, so the no-script Save button would only confuse.
  const saveButton = document.getElementById("save-button");
  if (saveButton) saveButton.hidden = true;

  updateProgress();
  tick();
  flush();
})();
