// glyphflow style explorer: plain JavaScript, no build step, no requests but to this server.
//
// The page keeps one style vector (z). Every change (a slider, Random, a dropped font, the
// blend slider) asks POST /v1/generate for a PNG sheet of the whole charset in that style
// and draws it; "your text" is laid out from the same sheet, glyph by glyph, spaced by
// each glyph's ink. Only one request is in flight: changes made meanwhile are coalesced
// into the next one, so dragging a slider redraws as fast as the server answers.
"use strict";

const state = {
  info: null,        // GET /v1/model
  z: [],             // current style vector
  busy: false,       // a generate request is in flight
  pending: false,    // the style changed while it was
  sheet: null,       // {canvas, columns, cell, styleId}
  blend: {a: null, b: null},
  draws: 0,
};

const $ = (id) => document.getElementById(id);

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

async function api(path, options) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(await errorText(response));
  return response;
}

function postJSON(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

// ------------------------------------------------------------------ sliders

function buildSliders(dim) {
  const box = $("sliders");
  box.textContent = "";
  for (let i = 0; i < dim; i++) {
    const row = document.createElement("div");
    row.className = "slider";
    const id = `z${i}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `z${i + 1}`;
    const input = document.createElement("input");
    Object.assign(input, {type: "range", id, min: "-3", max: "3", step: "0.05", value: "0"});
    input.setAttribute("aria-label", `Style dimension ${i + 1}`);
    input.dataset.index = String(i);
    const out = document.createElement("output");
    out.htmlFor = id;
    out.id = `${id}-value`;
    out.textContent = "0.00";
    input.addEventListener("input", () => {
      state.z[i] = Number(input.value);
      out.textContent = state.z[i].toFixed(2);
      redraw();
    });
    row.append(label, input, out);
    box.append(row);
  }
}

function showStyle(z) {
  state.z = z.map(Number);
  state.z.forEach((value, i) => {
    const input = $(`z${i}`);
    if (!input) return;
    input.value = String(Math.max(-3, Math.min(3, value)));
    $(`z${i}-value`).textContent = value.toFixed(2);
  });
  redraw();
}

// ------------------------------------------------------------------ drawing

function redraw() {
  if (state.busy) { state.pending = true; return; }
  state.busy = true;
  state.pending = false;
  const z = state.z.slice();
  fetchSheet(z)
    .then((sheet) => {
      state.sheet = sheet;
      paintSheet();
      paintText();
      state.draws += 1;
      const canvas = $("sheet");
      canvas.dataset.styleId = sheet.styleId;
      canvas.dataset.draws = String(state.draws);
      $("style-id").textContent = `style ${sheet.styleId}`;
      setStatus("");
    })
    .catch((err) => setStatus(`Could not draw: ${err.message}`, true))
    .finally(() => {
      state.busy = false;
      if (state.pending) redraw();
    });
}

async function fetchSheet(z) {
  const charset = state.info.charset;
  const columns = Math.min(charset.length, 16);
  const response = await postJSON("/v1/generate", {styles: [z], chars: charset, format: "png", columns});
  const bitmap = await createImageBitmap(await response.blob());
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(bitmap, 0, 0);
  const [h, w] = state.info.glyph_shape;
  return {
    canvas,
    ctx,
    columns: Number(response.headers.get("X-Glyphflow-Columns")) || columns,
    cell: {w, h},
    styleId: response.headers.get("X-Glyphflow-Style-Ids") || "",
    inkCache: new Map(),
  };
}

function paintSheet() {
  const sheet = state.sheet;
  const canvas = $("sheet");
  const scale = sheet.cell.h >= 48 ? 1 : 2;
  canvas.width = sheet.canvas.width * scale;
  canvas.height = sheet.canvas.height * scale;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(sheet.canvas, 0, 0, canvas.width, canvas.height);
}

// Ink columns [left, right) of glyph `index` in the sheet (paper is white, ink dark).
function inkSpan(index) {
  const sheet = state.sheet;
  if (sheet.inkCache.has(index)) return sheet.inkCache.get(index);
  const {w, h} = sheet.cell;
  const x0 = (index % sheet.columns) * w;
  const y0 = Math.floor(index / sheet.columns) * h;
  const data = sheet.ctx.getImageData(x0, y0, w, h).data;
  let left = w, right = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      if (data[(y * w + x) * 4] < 160) { left = Math.min(left, x); right = Math.max(right, x + 1); break; }
    }
  }
  const span = right > left ? {left, right} : {left: 0, right: Math.round(w * 0.3)};
  sheet.inkCache.set(index, span);
  return span;
}

function paintText() {
  const sheet = state.sheet;
  if (!sheet) return;
  const text = $("text").value;
  const charset = state.info.charset;
  const {w, h} = sheet.cell;
  const gap = Math.max(1, Math.round(w * 0.08));
  const space = Math.round(w * 0.3);
  const placed = [];
  let x = gap;
  const skipped = new Set();
  for (const ch of text) {
    const index = charset.indexOf(ch);
    if (ch === " " || index < 0) {
      if (ch !== " ") skipped.add(ch);
      x += space;
      continue;
    }
    const span = inkSpan(index);
    placed.push({index, span, x});
    x += span.right - span.left + gap;
  }
  const canvas = $("text-canvas");
  const maxWidth = Math.max(320, canvas.parentElement.clientWidth - 24);
  const scale = Math.min(2, Math.max(0.5, maxWidth / Math.max(x, 1)));
  canvas.width = Math.max(1, Math.ceil(x * scale));
  canvas.height = Math.ceil(h * scale);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (const {index, span, x: at} of placed) {
    const sx = (index % sheet.columns) * w + span.left;
    const sy = Math.floor(index / sheet.columns) * h;
    const width = span.right - span.left;
    ctx.drawImage(sheet.canvas, sx, sy, width, h, at * scale, 0, width * scale, h * scale);
  }
  canvas.title = skipped.size ? `Not in the model's charset: ${[...skipped].join(" ")}` : "";
}

// ------------------------------------------------------------------ actions

async function randomStyle() {
  try {
    const response = await postJSON("/v1/sample", {n: 1});
    showStyle((await response.json()).styles[0]);
  } catch (err) { setStatus(`Could not sample: ${err.message}`, true); }
}

async function encodeFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await api("/v1/encode", {method: "POST", body: form});
  return response.json();
}

async function jumpToFont(file) {
  if (!file) return;
  $("font-result").textContent = `Reading ${file.name}…`;
  try {
    const result = await encodeFile(file);
    const name = [result.family, result.style_name].filter(Boolean).join(" ") || result.file;
    $("font-result").textContent =
      `${name}: style ${result.style_id} from ${result.observed.length} glyphs` +
      (Object.keys(result.missing).length ? ` (${Object.keys(result.missing).length} missing)` : "");
    $("font-result").dataset.styleId = result.style_id;
    showStyle(result.style);
  } catch (err) {
    $("font-result").textContent = `${file.name}: ${err.message}`;
    setStatus(err.message, true);
  }
}

async function loadBlendFont(which, file) {
  if (!file) return;
  $("blend-result").textContent = `Reading ${file.name}…`;
  try {
    const result = await encodeFile(file);
    state.blend[which] = {z: result.style, name: result.family || file.name};
    const {a, b} = state.blend;
    const ready = Boolean(a && b);
    $("mix").disabled = !ready;
    $("blend-result").textContent = ready
      ? `Blending ${a.name} and ${b.name}: move the slider.`
      : `Font ${which.toUpperCase()}: ${state.blend[which].name}. Now choose the other one.`;
    if (ready) applyBlend();
  } catch (err) {
    $("blend-result").textContent = `${file.name}: ${err.message}`;
    setStatus(err.message, true);
  }
}

function applyBlend() {
  const {a, b} = state.blend;
  if (!a || !b) return;
  const t = Number($("mix").value);
  $("mix-value").textContent = t.toFixed(2);
  showStyle(a.z.map((value, i) => (1 - t) * value + t * b.z[i]));
}

async function downloadFont() {
  const button = $("download");
  button.disabled = true;
  setStatus("Tracing outlines and building the font…");
  try {
    const response = await postJSON("/v1/font", {style: state.z});
    const blob = await response.blob();
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : "glyphflow.otf";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setStatus(`Downloaded ${link.download}`);
  } catch (err) {
    setStatus(`Could not export: ${err.message}`, true);
  } finally {
    button.disabled = false;
  }
}

function wireDropzone() {
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) jumpToFont(file);
  });
  // dropping a file anywhere else must not navigate away from the page
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
}

async function start() {
  try {
    state.info = await (await api("/v1/model")).json();
  } catch (err) {
    setStatus(`The model is not available: ${err.message}`, true);
    return;
  }
  const info = state.info;
  $("model-info").textContent =
    `model ${info.model} (${info.kind}, ${info.latent_dim} dimensions, ${info.charset.length} characters)`;
  buildSliders(info.latent_dim);
  $("random").addEventListener("click", randomStyle);
  $("reset").addEventListener("click", () => showStyle(new Array(info.latent_dim).fill(0)));
  $("download").addEventListener("click", downloadFont);
  $("text").addEventListener("input", paintText);
  $("font-file").addEventListener("change", (event) => jumpToFont(event.target.files[0]));
  $("blend-a").addEventListener("change", (event) => loadBlendFont("a", event.target.files[0]));
  $("blend-b").addEventListener("change", (event) => loadBlendFont("b", event.target.files[0]));
  $("mix").addEventListener("input", applyBlend);
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement && event.target.type === "text";
    if (!typing && (event.key === "r" || event.key === "R") && !event.ctrlKey && !event.metaKey) randomStyle();
  });
  window.addEventListener("resize", paintText);
  wireDropzone();
  showStyle(new Array(info.latent_dim).fill(0));
}

document.addEventListener("DOMContentLoaded", start);
