// Telling the person who started `keyframeface serve` that the page cannot work: the status area says why, and
// the server logs one line (POST /api/client-error; the server drops reports beyond a few a minute).
const sent = new Set();

export function showProblem(text) {
  const el = document.getElementById("status");
  if (el) {
    el.textContent = text;
    el.title = text;
    el.classList.add("error");
  }
  document.body.dataset.error = text;
}

export function reportProblem(kind, message) {
  const text = String(message).slice(0, 1000);
  if (sent.has(kind + text)) return;  // the same problem once per page load
  sent.add(kind + text);
  fetch("/api/client-error", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ kind, message: text }),
    keepalive: true,
  }).catch(() => { /* the server is gone: nothing more to do */ });
}
