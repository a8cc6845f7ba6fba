// keyframeface web app: edit a script, generate keyframes, watch them on a 3D head, edit, download.
// The head and its animation are the glTF files the server writes (GET /api/animations/{id}.glb), played with
// three.js's GLTFLoader + AnimationMixer. Test hooks: document.body.dataset.ready = "1" once the head is shown;
// data-generated / data-animated / data-regenerated count finished actions; data-time is the shown time.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const $ = (id) => document.getElementById(id);
const body = document.body;

const EXAMPLE = {
  background: "A nurse reads a text message in a hospital corridor: the test results are not good.",
  emotion: "Shock turning into quiet grief.",
  keyframes: [
    { description: "She reads calmly, the gaze lowered to the phone and the face relaxed.", time_s: 0.0 },
    { description: "The brows shoot up, the eyes widen and the jaw drops slightly.", time_s: 1.2 },
    { description: "The inner brows rise and pull together, the mouth corners turn down and the lips press together.", time_s: 2.6 },
    { description: "She closes her eyes and bows her head slightly, the brows remain worried.", time_s: 4.4 },
  ],
};

// ------------------------------------------------------------------------------------------------ state
const state = {
  rows: EXAMPLE.keyframes.map((k) => ({ ...k, values: null, timeShown: null })),
  background: EXAMPLE.background,
  emotion: EXAMPLE.emotion,
  meta: {},
  channels: [],      // [{name, group, low, high}] from /api/channels
  groups: [],
  anim: null,        // the last /api/animate answer
  selected: -1,
  time: 0,
  playing: false,
  busy: 0,
};
const counters = { generated: 0, animated: 0, regenerated: 0, modelLoads: 0 };

function bump(name) {
  counters[name] += 1;
  body.dataset[name] = String(counters[name]);
}

function setStatus(text, { error = false } = {}) {
  const el = $("status");
  el.textContent = text;
  el.title = text;
  el.classList.toggle("error", error);
  if (error) body.dataset.error = text;
}

async function api(path, payload, { raw = false } = {}) {
  const init = payload === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
  };
  state.busy += 1;
  body.dataset.busy = "1";
  try {
    const res = await fetch(path, init);
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      let answer = null;
      try { answer = await res.json(); message = answer.error || message; } catch (_) { /* not JSON */ }
      if (res.status === 503) message += ` (retry in ${res.headers.get("Retry-After") || "a few"} s)`;
      const err = new Error(message);
      err.status = res.status;
      err.answer = answer;  // a 502 from /api/generate keeps the keyframes that succeeded in answer.partial
      throw err;
    }
    return raw ? res : res.json();
  } finally {
    state.busy -= 1;
    if (state.busy === 0) delete body.dataset.busy;
  }
}

// ----------------------------------------------------------------------------------------------- viewer
const viewer = $("viewer");
const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.outputColorSpace = THREE.SRGBColorSpace;
viewer.prepend(renderer.domElement);
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(28, 1, 0.01, 50);
camera.position.set(0, 0.02, 0.75);
const controls = new OrbitControls(camera, renderer.domElement);
controls.enableDamping = true;
scene.add(new THREE.HemisphereLight(0xffffff, 0x8a8f99, 1.6));
const key = new THREE.DirectionalLight(0xffffff, 1.9);
key.position.set(0.6, 0.8, 1.2);
scene.add(key);
const fill = new THREE.DirectionalLight(0xffffff, 0.6);
fill.position.set(-0.8, 0.2, 0.6);
scene.add(fill);

const loader = new GLTFLoader();
let model = null;        // the loaded glTF scene
let mixer = null;
let clipDuration = 0;
let framed = false;
const overrides = new Map();  // channel -> value shown while a slider edit waits for the server

function morphMeshes() {
  const out = [];
  model?.traverse((o) => { if (o.morphTargetDictionary && o.morphTargetInfluences) out.push(o); });
  return out;
}

function frameCamera(object) {
  const box = new THREE.Box3().setFromObject(object);
  const size = box.getSize(new THREE.Vector3());
  const center = box.getCenter(new THREE.Vector3());
  const dist = (Math.max(size.x, size.y) / 2) / Math.tan(THREE.MathUtils.degToRad(camera.fov / 2)) * 1.2;
  camera.position.set(center.x, center.y + size.y * 0.02, center.z + dist + size.z / 2);
  camera.near = dist / 50;
  camera.far = dist * 20;
  camera.updateProjectionMatrix();
  controls.target.copy(center);
  controls.update();
}

async function loadModel(url) {
  const gltf = await loader.loadAsync(url);
  if (model) {
    scene.remove(model);
    model.traverse((o) => { o.geometry?.dispose?.(); });
  }
  model = gltf.scene;
  scene.add(model);
  mixer = new THREE.AnimationMixer(model);
  clipDuration = 0;
  for (const clip of gltf.animations) {
    mixer.clipAction(clip).play();
    clipDuration = Math.max(clipDuration, clip.duration);
  }
  if (!framed) { frameCamera(model); framed = true; }
  bump("modelLoads");
  showTime(state.time);
}

function applyOverrides() {
  if (!overrides.size) return;
  for (const mesh of morphMeshes()) {
    for (const [name, value] of overrides) {
      const idx = mesh.morphTargetDictionary[name];
      if (idx !== undefined) mesh.morphTargetInfluences[idx] = value;
    }
  }
}

function resize() {
  const w = viewer.clientWidth, h = viewer.clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
}
new ResizeObserver(resize).observe(viewer);
resize();

// Draw only when something changed (time, camera, model, size): a morph-target head is costly to draw, and an
// idle page should not keep a laptop's CPU or GPU busy.
let needsRender = true;
const invalidate = () => { needsRender = true; };
controls.addEventListener("change", invalidate);
new ResizeObserver(invalidate).observe(viewer);
let last = performance.now();
renderer.setAnimationLoop((now) => {
  const dt = Math.min((now - last) / 1000, 0.1);
  last = now;
  if (state.playing && state.anim) {
    let t = state.time + dt;
    if (t > state.anim.duration_s) t = 0;
    showTime(t, { fromPlayback: true });
  }
  controls.update();  // damping: emits "change" while the camera still glides
  if (!needsRender) return;
  needsRender = false;
  renderer.render(scene, camera);
});

// ---------------------------------------------------------------------------------------------- timeline
function showTime(t, { fromPlayback = false } = {}) {
  const duration = state.anim ? state.anim.duration_s : 0;
  state.time = Math.max(0, Math.min(t, duration));
  if (mixer) mixer.setTime(Math.min(state.time, clipDuration));
  applyOverrides();
  invalidate();
  $("scrubber").value = duration ? String(state.time / duration) : "0";
  $("time").textContent = `${state.time.toFixed(2)} s`;
  if (!fromPlayback) body.dataset.time = state.time.toFixed(2);
}

function setPlaying(on) {
  state.playing = on && !!state.anim;
  $("play").textContent = state.playing ? "❚❚" : "▶";
  $("play").setAttribute("aria-label", state.playing ? "pause" : "play");
  if (!state.playing) body.dataset.time = state.time.toFixed(2);
}

function renderMarkers() {
  const box = $("markers");
  box.replaceChildren();
  if (!state.anim) return;
  state.anim.keyframe_times_s.forEach((t, i) => {
    const m = document.createElement("button");
    m.type = "button";
    m.className = "marker" + (i === state.selected ? " selected" : "");
    m.style.left = `${(t / Math.max(state.anim.duration_s, 1e-6)) * 100}%`;
    m.title = `keyframe ${i + 1} at ${t.toFixed(2)} s`;
    m.dataset.index = String(i);
    m.addEventListener("click", () => selectKeyframe(i));
    box.append(m);
  });
}

// ------------------------------------------------------------------------------------------ script editor
function scriptDoc() {
  return {
    background: state.background,
    emotion: state.emotion,
    keyframes: state.rows.map((r) => {
      const k = { description: r.description };
      if (r.time_s !== null && r.time_s !== undefined && r.time_s !== "") k.time_s = Number(r.time_s);
      return k;
    }),
  };
}

function keyframesDoc() {
  const doc = scriptDoc();
  return {
    format: "keyframeface.keyframes", version: 1, meta: state.meta,
    background: doc.background, emotion: doc.emotion,
    keyframes: doc.keyframes.map((k, i) => (state.rows[i].values ? { ...k, values: state.rows[i].values } : k)),
  };
}

function allGenerated() {
  return state.rows.length > 0 && state.rows.every((r) => r.values);
}

function renderRows() {
  const list = $("keyframes");
  list.replaceChildren();
  state.rows.forEach((row, i) => {
    const li = document.createElement("li");
    li.className = "kf" + (i === state.selected ? " selected" : "");
    li.dataset.index = String(i);
    const top = document.createElement("div");
    top.className = "kf-top";
    const num = document.createElement("span");
    num.className = "kf-num";
    num.textContent = `${i + 1}`;
    const time = document.createElement("input");
    time.type = "number"; time.min = "0"; time.step = "0.1";
    time.className = "kf-time";
    time.value = row.time_s ?? "";
    time.placeholder = row.timeShown != null ? row.timeShown.toFixed(2) : "auto";
    time.title = "time in seconds (empty: chosen automatically)";
    time.addEventListener("change", () => { row.time_s = time.value === "" ? null : Number(time.value); reanimateSoon(); });
    const unit = document.createElement("span");
    unit.className = "unit"; unit.textContent = "s";
    const badge = document.createElement("span");
    badge.className = "badge grow" + (row.values ? " ok" : "");
    badge.textContent = row.values ? "●" : "○";
    badge.title = row.values ? "generated" : "not generated yet";
    const mk = (label, title, cls, fn, disabled = false) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label; b.title = title; b.className = cls; b.disabled = disabled;
      b.addEventListener("click", fn);
      return b;
    };
    top.append(num, time, unit, badge,
      mk("✎", "edit this keyframe's channels", "kf-edit", () => selectKeyframe(i)),
      mk("↻", "regenerate this keyframe from its description", "kf-regen", () => regenerate(i)),
      mk("↑", "move up", "kf-up", () => move(i, -1), i === 0),
      mk("↓", "move down", "kf-down", () => move(i, 1), i === state.rows.length - 1),
      mk("✕", "remove", "kf-remove", () => removeRow(i), state.rows.length === 1));
    const desc = document.createElement("textarea");
    desc.className = "kf-desc"; desc.rows = 2; desc.value = row.description;
    desc.placeholder = "What the face does at this moment";
    desc.addEventListener("input", () => { row.description = desc.value; });
    li.append(top, desc);
    list.append(li);
  });
}

function move(i, step) {
  const j = i + step;
  if (j < 0 || j >= state.rows.length) return;
  [state.rows[i], state.rows[j]] = [state.rows[j], state.rows[i]];
  // Times stay in place (they must increase); the expressions move.
  [state.rows[i].time_s, state.rows[j].time_s] = [state.rows[j].time_s, state.rows[i].time_s];
  if (state.selected === i) state.selected = j; else if (state.selected === j) state.selected = i;
  renderRows();
  reanimateSoon();
}

function removeRow(i) {
  state.rows.splice(i, 1);
  if (state.selected === i) state.selected = -1; else if (state.selected > i) state.selected -= 1;
  renderRows();
  renderSliders();
  reanimateSoon();
}

function addRow() {
  const lastRow = state.rows[state.rows.length - 1];
  const lastTime = lastRow ? Number(lastRow.time_s ?? lastRow.timeShown ?? 0) : -1.5;
  state.rows.push({ description: "", time_s: Math.round((lastTime + 1.5) * 100) / 100, values: null, timeShown: null });
  renderRows();
  $("keyframes").lastElementChild?.querySelector("textarea")?.focus();
}

function loadScript(doc) {
  state.background = doc.background || "";
  state.emotion = doc.emotion || "";
  state.rows = (doc.keyframes || []).map((k) => ({
    description: k.description || "", time_s: k.time_s ?? null, values: k.values || null, timeShown: null,
  }));
  state.selected = -1;
  $("background").value = state.background;
  $("emotion").value = state.emotion;
  renderRows();
  renderSliders();
}

// --------------------------------------------------------------------------------------------- sliders
function renderSliders() {
  const box = $("sliders");
  box.replaceChildren();
  const row = state.rows[state.selected];
  $("channels-title").textContent = row ? `Keyframe ${state.selected + 1}` : "Channels";
  $("channels-hint").textContent = !row ? "Select a keyframe (✎) to edit its 61 channels."
    : row.values ? "Drag a slider; the animation updates when you let go."
      : "Generate this keyframe first (↻), then edit its channels.";
  if (!row || !row.values) return;
  for (const group of state.groups) {
    const det = document.createElement("details");
    det.className = "group"; det.dataset.group = group;
    det.open = ["brows", "eyes", "mouth", "jaw", "head"].includes(group);
    const sum = document.createElement("summary");
    sum.textContent = group.replace("_", " ");
    det.append(sum);
    for (const ch of state.channels.filter((c) => c.group === group)) {
      const line = document.createElement("label");
      line.className = "slider";
      const name = document.createElement("span");
      name.className = "name"; name.textContent = ch.name; name.title = ch.name;
      const input = document.createElement("input");
      input.type = "range"; input.min = String(ch.low); input.max = String(ch.high); input.step = "0.01";
      input.value = String(row.values[ch.name] ?? 0);
      input.dataset.channel = ch.name;
      const out = document.createElement("output");
      out.textContent = Number(input.value).toFixed(2);
      input.addEventListener("input", () => {
        const v = Number(input.value);
        row.values[ch.name] = v;
        out.textContent = v.toFixed(2);
        if (ch.group !== "head" && ch.group !== "eye_rotation") overrides.set(ch.name, v);
        applyOverrides();
        invalidate();
      });
      input.addEventListener("change", () => reanimateSoon(150));
      line.append(name, input, out);
      det.append(line);
    }
    box.append(det);
  }
}

function selectKeyframe(i) {
  state.selected = i;
  setPlaying(false);
  renderRows();
  renderSliders();
  renderMarkers();
  const t = state.anim?.keyframe_times_s[i];
  if (t !== undefined) showTime(t);
}

// --------------------------------------------------------------------------------------------- actions
function backendChoice() {
  return { backend: $("backend").value || null };
}

function applyGenerated(doc) {
  state.meta = doc.meta || {};
  doc.keyframes.forEach((k, i) => { if (state.rows[i]) state.rows[i].values = k.values || null; });
  renderRows();
  renderSliders();
}

async function generateAll() {
  setPlaying(false);
  setStatus("Generating…");
  let doc;
  try {
    doc = await api("/api/generate", { script: scriptDoc(), ...backendChoice() });
  } catch (err) {
    const partial = err.status === 502 ? err.answer?.partial : null;
    if (partial?.keyframes) applyGenerated(partial);  // keep what did succeed; the rest can be regenerated
    const failed = Object.keys(err.answer?.failed || {}).map((k) => Number(k) + 1);
    const hint = partial?.keyframes && failed.length ? ` (kept the others; regenerate keyframe ${failed.join(", ")})` : "";
    setStatus(`Generate failed: ${err.message}${hint}`, { error: true });
    return;
  }
  applyGenerated(doc);
  try {
    await animateNow();
  } catch (err) {  // generation worked; only the animation did not (503 busy, ...): say so
    setStatus(`Generated ${doc.keyframes.length} keyframes; animating failed: ${err.message}`, { error: true });
    return;
  }
  bump("generated");
  const blank = blankWarning(state.meta);  // the CLI's warning: keyframes whose text gave no facial action
  setStatus(`Generated ${doc.keyframes.length} keyframes with ${state.meta.backend || "the backend"}.${blank}`,
            { error: Boolean(blank) });
}

function blankWarning(meta) {
  const lang = meta?.language;
  if (!lang?.blank?.length) return "";
  const parts = lang.blank.map((i) => {
    const unknown = lang.coverage?.[String(i)]?.unknown || [];
    return `keyframe ${i + 1}` + (unknown.length ? ` (not understood: ${unknown.join(", ")})` : "");
  });
  return ` Warning: no facial action understood in ${parts.join("; ")}; rephrase it.`;
}

async function regenerate(i) {
  setPlaying(false);
  setStatus(`Regenerating keyframe ${i + 1}…`);
  try {
    const payload = { script: scriptDoc(), index: i, ...backendChoice() };
    if (state.rows.some((r) => r.values)) payload.keyframes = keyframesDoc();
    const res = await api("/api/regenerate", payload);
    state.rows[i].values = res.keyframe.values;
    state.selected = i;
    renderRows();
    renderSliders();
    if (allGenerated()) await animateNow();
    bump("regenerated");
    setStatus(`Keyframe ${i + 1} regenerated.`);
  } catch (err) {
    setStatus(`Regenerate failed: ${err.message}`, { error: true });
  }
}

let reanimateTimer = null;
function reanimateSoon(delay = 400) {
  clearTimeout(reanimateTimer);
  if (!allGenerated()) return;
  reanimateTimer = setTimeout(() => { animateNow().catch(() => {}); }, delay);
}

let animateSeq = 0;
async function animateNow() {
  if (!allGenerated()) return;
  const seq = ++animateSeq;
  try {
    const res = await api("/api/animate", { keyframes: keyframesDoc(), fps: 30 });
    if (seq !== animateSeq) return;  // a newer edit already asked again
    state.anim = res;
    res.keyframes.keyframes.forEach((k, i) => { if (state.rows[i]) state.rows[i].timeShown = k.time_s; });
    await loadModel(res.urls.glb);
    if (seq !== animateSeq) return;
    overrides.clear();
    renderRows();
    renderMarkers();
    const t = state.selected >= 0 ? res.keyframe_times_s[state.selected] : Math.min(state.time, res.duration_s);
    showTime(t ?? 0);
    body.dataset.animId = res.id;
    bump("animated");
    $("viewer-note").textContent = `${res.num_frames} frames at ${res.fps} fps · ${res.duration_s.toFixed(2)} s`;
  } catch (err) {
    setStatus(`Animate failed: ${err.message}`, { error: true });
    throw err;
  }
}

async function download(kind) {
  if (!allGenerated()) { setStatus("Generate first, then download.", { error: true }); return; }
  const fmt = kind === "keyframes" ? "json" : kind;
  const payload = { keyframes: keyframesDoc(), fps: 30, what: kind === "keyframes" ? "keyframes" : "animation" };
  setStatus(`Preparing ${kind}…`);
  try {
    const res = await api(`/api/export/${fmt}`, payload, { raw: true });
    const blob = await res.blob();
    const match = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = match ? match[1] : `keyframeface.${fmt}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    setStatus(`Downloaded ${a.download}.`);
  } catch (err) {
    setStatus(`Download failed: ${err.message}`, { error: true });
  }
}

async function planFromText(ev) {
  ev.preventDefault();
  const text = $("plan-text").value.trim();
  if (!text) return;
  try {
    loadScript(await api("/api/plan", { text }));
    setStatus("Planned a script; press Generate.");
  } catch (err) {
    setStatus(`Plan failed: ${err.message}`, { error: true });
  }
}

// ---------------------------------------------------------------------------------------------- start up
function wire() {
  $("generate").addEventListener("click", generateAll);
  $("add-keyframe").addEventListener("click", addRow);
  $("plan-form").addEventListener("submit", planFromText);
  $("background").addEventListener("input", (e) => { state.background = e.target.value; });
  $("emotion").addEventListener("input", (e) => { state.emotion = e.target.value; });
  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("scrubber").addEventListener("input", (e) => {
    setPlaying(false);
    if (state.anim) showTime(Number(e.target.value) * state.anim.duration_s);
  });
  for (const b of document.querySelectorAll("[data-download]")) {
    b.addEventListener("click", () => download(b.dataset.download));
  }
}

async function start() {
  wire();
  loadScript(EXAMPLE);
  try {
    const [backends, channels] = await Promise.all([api("/api/backends"), api("/api/channels")]);
    state.channels = channels.channels;
    state.groups = channels.groups;
    const select = $("backend");
    for (const b of backends.backends) {
      const opt = document.createElement("option");
      opt.value = b.name;
      opt.textContent = b.usable ? b.name : `${b.name} (unavailable)`;
      opt.disabled = !b.usable;
      opt.title = b.reason;
      opt.selected = b.name === backends.default;
      select.append(opt);
    }
    await loadModel("/api/head.glb");
    setStatus("Ready: edit the script and press Generate.");
    body.dataset.ready = "1";
  } catch (err) {
    setStatus(`Could not start: ${err.message}`, { error: true });
  }
}

// For tests and the console: the state and the head's current morph weights by channel name.
window.keyframeface = {
  state,
  influences() {
    const out = {};
    for (const mesh of morphMeshes()) {
      for (const [name, idx] of Object.entries(mesh.morphTargetDictionary)) {
        out[name] = Math.max(out[name] ?? 0, mesh.morphTargetInfluences[idx]);
      }
    }
    return out;
  },
};

start();
