// End-to-end test of the keyframeface web app in headless Chromium (driven by tests/test_web_browser.py).
// Usage: node web_app.mjs URL OUTDIR   (CHROMIUM=/usr/bin/chromium by default)
// Loads the page, waits for its readiness signal, generates with the rules backend, scrubs, edits a slider,
// regenerates one keyframe, downloads a CSV and saves a screenshot. Prints one JSON line with what it saw;
// exits non-zero on the first failed step. No fixed sleeps: every wait is on a condition the page sets.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error("usage: node web_app.mjs URL OUTDIR");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kff-chromium-"));
const result = { steps: [] };
let lastStep = Date.now();
const step = (name, data = {}) => {
  const now = Date.now();
  result.steps.push({ name, ms: now - lastStep, ...data });
  lastStep = now;
};
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 60000);

// A fresh profile (--user-data-dir) per run: launchPersistentContext is how Playwright takes one.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // WebGL without a GPU: Chromium's software rasteriser (SwiftShader through ANGLE).
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
  ],
  viewport: { width: 1400, height: 860 },
  acceptDownloads: true,
});
let failed = null;
try {
  const page = context.pages()[0] ?? await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.setDefaultTimeout(TIMEOUT);

  await page.goto(url);
  await page.waitForSelector("body[data-ready='1']");
  step("ready", { backends: await page.$$eval("#backend option", (os) => os.map((o) => o.value)) });

  // Generate with the rules backend.
  await page.selectOption("#backend", "rules");
  await page.click("#generate");
  await page.waitForSelector("body[data-generated='1']");
  const gen = await page.evaluate(() => ({
    rows: window.keyframeface.state.rows.length,
    generated: window.keyframeface.state.rows.every((r) => r.values),
    markers: document.querySelectorAll("#markers .marker").length,
    duration: window.keyframeface.state.anim.duration_s,
    modelLoads: Number(document.body.dataset.modelLoads),
  }));
  step("generate", gen);

  // Scrub to the second keyframe's time: the head's weights must follow the animation.
  const t1 = await page.evaluate(() => window.keyframeface.state.anim.keyframe_times_s[1]);
  const atStart = await page.evaluate(() => window.keyframeface.influences());
  await page.$eval("#scrubber", (el, frac) => {
    el.value = String(frac);
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, t1 / gen.duration);
  await page.waitForFunction((t) => Math.abs(Number(document.body.dataset.time) - t) < 0.02, t1);
  const atT1 = await page.evaluate(() => window.keyframeface.influences());
  const changed = Object.keys(atT1).filter((k) => Math.abs(atT1[k] - (atStart[k] ?? 0)) > 0.02);
  step("scrub", { time: Number(await page.evaluate(() => document.body.dataset.time)), changed: changed.length });

  // Edit keyframe 2's MouthSmileLeft with its slider; the animation is rebuilt on release.
  await page.click("#keyframes li[data-index='1'] .kf-edit");
  await page.waitForSelector("#sliders input[data-channel='MouthSmileLeft']");
  const animatedBefore = Number(await page.evaluate(() => document.body.dataset.animated));
  await page.$eval("#sliders input[data-channel='MouthSmileLeft']", (el) => {
    el.value = "0.9";
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  });
  await page.waitForFunction((n) => Number(document.body.dataset.animated) > n, animatedBefore);
  await page.waitForFunction(() => Math.abs(
    Number(document.body.dataset.time) - window.keyframeface.state.anim.keyframe_times_s[1]) < 0.02);
  const slider = await page.evaluate(() => ({
    value: window.keyframeface.state.rows[1].values.MouthSmileLeft,
    shown: window.keyframeface.influences().MouthSmileLeft,
  }));
  step("slider", slider);

  // Rewrite keyframe 3 and regenerate only that keyframe.
  const before = await page.evaluate(() => JSON.stringify(window.keyframeface.state.rows.map((r) => r.values)));
  await page.fill("#keyframes li[data-index='2'] textarea", "The jaw drops wide open and the eyes go wide in shock.");
  await page.click("#keyframes li[data-index='2'] .kf-regen");
  await page.waitForSelector("body[data-regenerated='1']");
  const regen = await page.evaluate((prev) => {
    const old = JSON.parse(prev);
    const rows = window.keyframeface.state.rows;
    return {
      jawOpen: rows[2].values.JawOpen,
      eyeWide: rows[2].values.EyeWideLeft,
      othersKept: rows.every((r, i) => i === 2 || JSON.stringify(r.values) === JSON.stringify(old[i])),
      smileKept: rows[1].values.MouthSmileLeft,
    };
  }, before);
  step("regenerate", regen);

  // Download the Live Link Face CSV.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  const csvPath = path.join(outDir, download.suggestedFilename());
  await download.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, "utf8");
  step("download", { file: path.basename(csvPath), header: csv.split("\n")[0].slice(0, 60), lines: csv.trim().split("\n").length });

  // Screenshot for the docs, at the second keyframe.
  await page.click("#keyframes li[data-index='1'] .kf-edit");
  await page.waitForFunction(() => Math.abs(
    Number(document.body.dataset.time) - window.keyframeface.state.anim.keyframe_times_s[1]) < 0.02);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const shot = path.join(outDir, "web.png");
  await page.screenshot({ path: shot });
  step("screenshot", { file: shot });

  // Play for a moment, then pause: the time moves on its own.
  const t0 = await page.evaluate(() => window.keyframeface.state.time);
  await page.click("#play");
  await page.waitForFunction((t) => Math.abs(window.keyframeface.state.time - t) > 0.3, t0);
  await page.click("#play");
  step("play", { paused: await page.evaluate(() => !window.keyframeface.state.playing) });

  // Reorder: keyframe 1 moves down; the expressions swap and the times stay in place.
  const order = await page.evaluate(() => window.keyframeface.state.rows.map((r) => [r.description, r.time_s]));
  let animated = Number(await page.evaluate(() => document.body.dataset.animated));
  await page.click("#keyframes li[data-index='0'] .kf-down");
  await page.waitForFunction((n) => Number(document.body.dataset.animated) > n, animated);
  const reordered = await page.evaluate(() => window.keyframeface.state.rows.map((r) => [r.description, r.time_s]));
  step("reorder", {
    swapped: reordered[0][0] === order[1][0] && reordered[1][0] === order[0][0],
    timesKept: JSON.stringify(reordered.map((r) => r[1])) === JSON.stringify(order.map((r) => r[1])),
  });

  // Add a keyframe, describe it and generate it alone; then remove it again.
  await page.click("#add-keyframe");
  await page.fill("#keyframes li[data-index='4'] textarea", "A broad smile spreads across the face.");
  await page.click("#keyframes li[data-index='4'] .kf-regen");
  await page.waitForSelector("body[data-regenerated='2']");
  const added = await page.evaluate(() => ({
    rows: window.keyframeface.state.rows.length,
    smile: window.keyframeface.state.rows[4].values.MouthSmileLeft,
    markers: document.querySelectorAll("#markers .marker").length,
  }));
  animated = Number(await page.evaluate(() => document.body.dataset.animated));
  await page.click("#keyframes li[data-index='4'] .kf-remove");
  await page.waitForFunction((n) => Number(document.body.dataset.animated) > n, animated);
  added.afterRemove = await page.evaluate(() => [
    window.keyframeface.state.rows.length, document.querySelectorAll("#markers .marker").length]);
  step("add-remove", added);

  // Plan a new script from one sentence: the old animation is gone (no markers, the head at rest).
  await page.fill("#plan-text", "A shy girl hears a compliment and smiles.");
  await page.click("#plan-form button[type=submit]");
  await page.waitForSelector("body[data-planned='1']");
  step("plan", await page.evaluate(() => ({
    anim: window.keyframeface.state.anim,
    markers: document.querySelectorAll("#markers .marker").length,
    rows: window.keyframeface.state.rows.length,
    generated: window.keyframeface.state.rows.some((r) => r.values),
  })));

  result.consoleErrors = consoleErrors;
  result.webgl = await page.evaluate(() => {
    const gl = document.querySelector("#viewer canvas").getContext("webgl2");
    const ext = gl && gl.getExtension("WEBGL_debug_renderer_info");
    return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : "unknown";
  });
} catch (err) {
  failed = String(err && err.stack ? err.stack : err);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
result.ok = failed === null;
if (failed) result.error = failed;
console.log(JSON.stringify(result));
process.exit(failed ? 1 : 0);
