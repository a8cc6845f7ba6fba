// Starts the page: checks that the browser can draw 3D (WebGL), then loads app.js, which imports three.js through
// the import map. app.js is imported dynamically so that a module that fails to load (a broken install, a
// blocked file) is caught here and explained, instead of leaving "Loading the head…" on screen for ever.
import { reportProblem, showProblem } from "./report.js";

function webglProblem() {
  try {
    const canvas = document.createElement("canvas");
    if (canvas.getContext("webgl2") || canvas.getContext("webgl")) return null;
    return "this browser has no WebGL (is hardware acceleration turned off?)";
  } catch (err) {
    return `WebGL failed: ${err.message || err}`;
  }
}

window.addEventListener("unhandledrejection", (ev) => reportProblem("runtime", ev.reason?.stack || ev.reason));
window.addEventListener("error", (ev) => reportProblem("runtime", ev.error?.stack || ev.message));

const problem = webglProblem();
if (problem) {
  document.body.dataset.webgl = "0";
  reportProblem("webgl", problem);
}
try {
  await import("./app.js");
} catch (err) {
  const text = `The page could not start: a script failed to load (${err.message || err}). Reinstall keyframeface.`;
  showProblem(text);
  reportProblem("module", `${err.message || err}`);
}
