// petnet serve: the page. Plain JavaScript, no build step, no CDN. Text from the server (class
// names, file names, messages) is only ever put into the page with textContent (never as HTML).
// Every status is shown next to the control that caused it, kept as a function of the language
// and drawn again when the language changes.
"use strict";

const T = {
  zh: {
    title: "petnet 宠物识别", recognise: "认一认", drop_hint: "把照片拖到这里，或粘贴（Ctrl+V），或",
    choose: "选择照片", camera: "拍照", live: "摄像头实时识别", live_stop: "停止实时识别", clear: "清空结果",
    examples: "没有照片？试试这些：", teach: "教它认识你的宠物",
    teach_hint: "建几个类别（比如你家猫的名字），每个类别放几张照片：选文件、选文件夹、拖进来、粘贴，或用摄像头按住录制。然后训练，再看它在你自己的照片上学得怎么样。",
    class_placeholder: "类别名称，如 咪咪", create: "新建类别", train: "训练", rollback: "退回之前的模型",
    token: "访问令牌", token_hint: "服务器用 --token 启动时需要", save: "保存", token_saved: "已保存令牌",
    footer: "petnet · 照片只在这台服务器上处理",
    wrong: "不对？这是", fix: "加入并重新训练", lang: "English",
    working: n => `正在识别 ${n} 张照片…`, done: (n, ms) => `${n} 张照片，用时 ${ms} 毫秒`,
    cleared: "已清空结果", cat: "猫", dog: "狗", photos: n => `${n} 张照片`,
    unsure_head: (name, sp) => `可能是 ${name}${sp ? `（${sp}）` : ""}，但不确定`, reason: r => `原因：${r}`,
    looks_like: "更像：", not_the_answer: "模型的类别（不是答案）",
    add_photos: "添加照片", add_folder: "添加文件夹", webcam: "摄像头", rename: "改名", remove: "删除类别",
    rename_prompt: name => `“${name}” 的新名字：`, renamed: name => `已改名为 “${name}”`,
    confirm_remove: name => `删除类别 “${name}” 和它的照片？`, removed: name => `已删除类别 “${name}”`,
    created: name => `已新建类别 “${name}”`,
    selected: n => `已选 ${n} 张`, delete_selected: "删除所选", move_to: "移到…",
    deleted_photos: n => `已删除 ${n} 张照片`, moved_photos: (n, c) => `已把 ${n} 张照片移到 “${c}”`,
    model: (v, n) => `模型：${v === "base" ? "内置 37 个品种" : v}（${n} 类）`,
    phase: { features: "提取特征", training: "训练", calibration: "校准", review: "留出验证", saving: "保存" },
    training: "正在训练…", trained: v => `训练完成：模型 ${v} 已启用`, failed: e => e,
    added: (n, c) => `已加入 ${n} 张照片到 “${c}”`, refused: n => `${n} 张没有加入：`,
    pick_class: "选择类别…", new_class: "新类别…", new_class_prompt: "新类别的名称：",
    hold: "按住录制", close_camera: "关闭摄像头", recording: (n, m) => `已录 ${n} 帧，已加入 ${m} 张`,
    camera_for: c => `摄像头：按住按钮录制，照片加入 “${c}”`,
    no_camera: e => `打不开摄像头：${e}（需要 localhost 或 https，并允许使用摄像头）`,
    ready: "每个类别的照片都够了，可以训练",
    ready_but: (need, n) => `每个类别的照片都够了，可以训练；不过要看留出验证的结果，一共至少需要 ${need} 张照片（现在 ${n} 张）`,
    rate: r => `${pct(r.rate)}（${r.correct}/${r.n}）`, more_photos: n => `…还有 ${n} 张`, item: (name, msg) => `${name}：${msg}`, sep: "；",
    judge: "它学得怎么样", judge_hint: "5 折交叉验证：每张照片都由没见过它的模型来认（同样的训练设置），所以这是在新照片上大概的表现。",
    judge_summary: (v, k, n, lo, hi) => `模型 ${v}：留出准确率 ${pct(k / n)}（${k}/${n}，95% 区间 ${pct(lo)}–${pct(hi)}）`,
    judge_missing: (v, n, need) => `模型 ${v}：只有 ${n} 张照片，至少 ${need} 张才能给出留出验证的结果`,
    class: "类别", accuracy: "准确率", interval: "95% 区间", right: "认对",
    confusion: "混淆矩阵", confusion_hint: "行：照片真正的类别；列：模型的回答。对角线上是认对的。",
    truth: "真实 \\ 回答", hard: "答错或最没把握的照片",
    answered: (a, s) => `回答：${a}（${pct(s)}）`, truly: c => `其实是：${c}`,
    keep: "模型", upload_model: "上传模型文件", version: "模型", date: "时间", classes: "类别",
    held_out: "留出准确率", activate: "启用", active: "使用中", delete: "删除", download: "下载",
    base_model: "内置 37 个品种", source: { base: "基础模型", trained: "在这里训练", uploaded: "上传的" },
    n_classes: n => `${n} 类`, activated: v => (v === "base" ? "已启用基础模型" : `已启用 ${v}`),
    deleted_model: v => `已删除模型 ${v}`, confirm_delete_model: v => `删除模型 ${v}？`,
    exporting: v => `正在导出 ${v} 的 ONNX（要几秒钟）…`, downloaded: f => `已下载 ${f}`,
    uploaded: (v, n) => `已保存为模型 ${v}（${n} 类）；点“启用”使用它`, uploading: "正在检查模型文件…",
    rolled_back: v => (v === "base" ? "已退回到基础模型" : `已退回到 ${v}`),
    network: e => `连不上服务器：${e}`,
  },
  en: {
    title: "petnet pet recognition", recognise: "Recognise", drop_hint: "Drop photos here, paste (Ctrl+V), or",
    choose: "Choose photos", camera: "Take a photo", live: "Live from the webcam", live_stop: "Stop live", clear: "Clear results",
    examples: "No photo at hand? Try these:", teach: "Teach it your pets",
    teach_hint: "Create a few classes (your cat's name, say) and give each some photos: choose files or a folder, drop them, paste, or hold to record from the webcam. Then train, and see how well it does on your own photos.",
    class_placeholder: "class name, e.g. Mimi", create: "Create class", train: "Train", rollback: "Back to the previous model",
    token: "Access token", token_hint: "needed when the server runs with --token", save: "Save", token_saved: "Token saved",
    footer: "petnet · photos are processed on this server only",
    wrong: "Wrong? This is", fix: "Add and retrain", lang: "中文",
    working: n => `Recognising ${n} photo(s)…`, done: (n, ms) => `${n} photo(s) in ${ms} ms`,
    cleared: "Results cleared", cat: "cat", dog: "dog", photos: n => `${n} photo(s)`,
    unsure_head: (name, sp) => `maybe ${name}${sp ? ` (a ${sp})` : ""}, but unsure`, reason: r => `why: ${r}`,
    looks_like: "looks more like:", not_the_answer: "the model's classes (not the answer)",
    add_photos: "Add photos", add_folder: "Add a folder", webcam: "Webcam", rename: "Rename", remove: "Delete class",
    rename_prompt: name => `New name of "${name}":`, renamed: name => `Renamed to "${name}"`,
    confirm_remove: name => `Delete the class "${name}" and its photos?`, removed: name => `Deleted the class "${name}"`,
    created: name => `Created the class "${name}"`,
    selected: n => `${n} selected`, delete_selected: "Delete selected", move_to: "Move to…",
    deleted_photos: n => `Deleted ${n} photo(s)`, moved_photos: (n, c) => `Moved ${n} photo(s) to "${c}"`,
    model: (v, n) => `model: ${v === "base" ? "built-in 37 breeds" : v} (${n} classes)`,
    phase: { features: "features", training: "training", calibration: "calibrating", review: "held-out check", saving: "saving" },
    training: "Training…", trained: v => `Training done: model ${v} is now used`, failed: e => e,
    added: (n, c) => `Added ${n} photo(s) to "${c}"`, refused: n => `${n} not added:`,
    pick_class: "choose a class…", new_class: "new class…", new_class_prompt: "Name of the new class:",
    hold: "Hold to record", close_camera: "Close the webcam", recording: (n, m) => `${n} frame(s) recorded, ${m} added`,
    camera_for: c => `Webcam: hold the button to record photos into "${c}"`,
    no_camera: e => `Cannot open the webcam: ${e} (it needs localhost or https, and your permission)`,
    ready: "Every class has enough photos: ready to train",
    ready_but: (need, n) => `Every class has enough photos: ready to train. Held-out results need at least ${need} photos in all (now ${n})`,
    rate: r => `${pct(r.rate)} (${r.correct}/${r.n})`, more_photos: n => `…and ${n} more`, item: (name, msg) => `${name}: ${msg}`, sep: "; ",
    judge: "How good is it?", judge_hint: "5-fold cross-validation: each photo is judged by a model that did not see it (same training settings), so this is roughly how it does on new photos.",
    judge_summary: (v, k, n, lo, hi) => `Model ${v}: held-out accuracy ${pct(k / n)} (${k}/${n}, 95% interval ${pct(lo)}–${pct(hi)})`,
    judge_missing: (v, n, need) => `Model ${v}: only ${n} photos; held-out results need at least ${need}`,
    class: "class", accuracy: "accuracy", interval: "95% interval", right: "right",
    confusion: "Confusion matrix", confusion_hint: "Rows: the photo's true class; columns: the model's answer. The diagonal is right.",
    truth: "true \\ answered", hard: "Photos it got wrong or was least sure of",
    answered: (a, s) => `answered: ${a} (${pct(s)})`, truly: c => `truly: ${c}`,
    keep: "Models", upload_model: "Upload a model file", version: "model", date: "date", classes: "classes",
    held_out: "held-out accuracy", activate: "Activate", active: "in use", delete: "Delete", download: "Download",
    base_model: "built-in 37 breeds", source: { base: "base model", trained: "trained here", uploaded: "uploaded" },
    n_classes: n => `${n} classes`, activated: v => `Now using ${v === "base" ? "the base model" : v}`,
    deleted_model: v => `Deleted the model ${v}`, confirm_delete_model: v => `Delete the model ${v}?`,
    exporting: v => `Exporting ${v} as ONNX (a few seconds)…`, downloaded: f => `Downloaded ${f}`,
    uploaded: (v, n) => `Kept as model ${v} (${n} classes); press "Activate" to use it`, uploading: "Checking the model file…",
    rolled_back: v => `Back to ${v === "base" ? "the base model" : v}`,
    network: e => `Cannot reach the server: ${e}`,
  },
};

const EXAMPLES = [
  { src: "/static/examples/pug.jpg", name: "pug.jpg" },
  { src: "/static/examples/persian.jpg", name: "persian.jpg" },
  { src: "/static/examples/shiba_inu.jpg", name: "shiba_inu.jpg" },
];

let lang = localStorage.getItem("petnet-lang") || "zh";     // Chinese first; the switch is remembered
let classes = [], models = [], model = null, trainState = null;
const classStatus = {};            // class id -> status function
const selection = {};              // class id -> Set of photo ids
const photoLists = {};             // class id -> photo ids
const blobs = new Map();           // url -> blob: URL (photos fetched with the token)
const $ = sel => document.querySelector(sel);
const t = (key, ...a) => { const v = T[lang][key]; return typeof v === "function" ? v(...a) : v; };
function pct(x) { return x == null || isNaN(x) ? "–" : `${(100 * x).toFixed(x === 1 || x === 0 ? 0 : 1)}%`; }
// a score in percent, one decimal; never "100.0%" for a score below 1 (answer.score_text's rule)
function scorePct(x) { const s = (100 * x).toFixed(1); return x < 1 && s === "100.0" ? ">99.9%" : x > 0 && s === "0.0" ? "<0.1%" : `${s}%`; }
const sleep = ms => new Promise(r => setTimeout(r, ms));
const MAX_THUMBS = 60;             // photos shown (and selectable) per class

// ---------------------------------------------------------------- statuses
// A status is a function of the language, kept on its element and drawn again on a switch.
function status(el, fn, bad) {
  if (!el) return;
  el._msg = fn ? { fn, bad: !!bad } : null;
  drawStatus(el);
}
function drawStatus(el) {
  const m = el._msg;
  el.textContent = m ? m.fn() : "";
  el.classList.toggle("error", !!(m && m.bad));
}
function fail(el) { return e => status(el, () => errText(e), true); }

class ApiError extends Error {
  constructor(status, body) { super((body && body.detail) || `HTTP ${status}`); this.status = status; this.body = body; }
}
// the server's message in the current language (it sends both)
function errText(e) {
  if (e && e.body && e.body[`message_${lang}`]) return e.body[`message_${lang}`];
  if (e instanceof ApiError) return e.message;
  return t("network", e && e.message ? e.message : String(e));
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("#lang").textContent = t("lang");
  $("#live").textContent = live ? t("live_stop") : t("live");
  for (const card of document.querySelectorAll(".result")) if (card._result) renderResult(card, card._result);
  for (const el of document.querySelectorAll(".status")) if (el._msg) drawStatus(el);
  renderModel(); renderClasses(); renderReady(); renderTraining(); renderModels(); renderJudge(); renderRecorder();
}

// ---------------------------------------------------------------- requests
function headers() {
  const h = { "Accept-Language": lang === "zh" ? "zh-CN" : "en" };
  const token = localStorage.getItem("petnet-token") || "";
  if (token) h["Authorization"] = `Bearer ${token}`;
  return h;
}

async function api(method, url, body) {
  const h = headers();
  if (body && !(body instanceof FormData)) { h["Content-Type"] = "application/json"; body = JSON.stringify(body); }
  const res = await fetch(url, { method, headers: h, body });
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401) { $("#token-box").open = true; status($("#token-status"), () => errText(err), true); }
    throw err;
  }
  return data;
}

// a file the server keeps (a photo, a model), fetched with the token: a blob
async function fetchBlob(url) {
  const res = await fetch(url, { headers: headers() });
  if (!res.ok) { let body = null; try { body = await res.json(); } catch (e) { /* not JSON */ } throw new ApiError(res.status, body); }
  return res.blob();
}

function showImage(img, url) {
  if (blobs.has(url)) { img.src = blobs.get(url); return; }
  fetchBlob(url).then(b => { const u = URL.createObjectURL(b); blobs.set(url, u); img.src = u; }).catch(() => { img.classList.add("missing"); });
}

function saveBlob(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

// ---------------------------------------------------------------- recognise
async function recognise(files) {
  files = [...files].filter(f => f && f.size >= 0);
  if (!files.length) return;
  const el = $("#use-status");
  status(el, () => t("working", files.length));
  const batch = document.createDocumentFragment();
  const cards = files.map(f => addCard(f, batch));
  $("#results").prepend(batch);
  renderExamples();
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name || "photo.jpg");
  const t0 = performance.now();
  try {
    const results = await api("POST", "/api/predict", form);
    results.forEach((r, i) => renderResult(cards[i], r));
    const ms = Math.round(performance.now() - t0);
    status(el, () => t("done", files.length, ms));
  } catch (e) {
    cards.forEach(c => status(c.querySelector(".fix-status"), () => errText(e), true));
    fail(el)(e);
  }
}

function addCard(file, parent) {
  const card = $("#result-tpl").content.firstElementChild.cloneNode(true);
  card._file = file;
  const thumb = card.querySelector(".thumb");
  thumb.addEventListener("error", () => { thumb.hidden = true; });     // not a picture: no broken icon
  thumb.src = URL.createObjectURL(file);
  card.querySelector(".file").textContent = file.name || "";
  for (const el of card.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  card.querySelector(".fix-go").addEventListener("click", () => fix(card));
  parent.append(card);
  return card;
}

const pretty = label => String(label).replace(/_/g, " ");

// [first, second]: the name to show and the other language's name (breeds have both)
function guessNames(g) {
  const zh = g.name && g.name !== g.label ? g.name : "";
  const en = pretty(g.label);
  return lang === "zh" ? [zh || en, zh ? en : ""] : [en, zh];
}

function bar(g, extra) {
  const li = document.createElement("li");
  li.className = "guess";
  const b = document.createElement("div");
  b.className = "bar";
  b.style.width = `${Math.max(0, Math.min(1, g.score)) * 100}%`;
  const text = document.createElement("div");
  text.className = "text";
  const left = document.createElement("span");
  const [first, second] = guessNames(g);
  const p = document.createElement("span"); p.className = "primary"; p.textContent = first;
  left.append(p);
  if (second) { const s = document.createElement("span"); s.className = "secondary"; s.textContent = second; left.append(s); }
  if (extra) { const s = document.createElement("span"); s.className = "tag"; s.textContent = extra; left.append(s); }
  const score = document.createElement("span"); score.className = "score"; score.textContent = scorePct(g.score);
  text.append(left, score);
  li.append(b, text);
  return li;
}

// One card per answer: the verdict first, and only what agrees with it.
//   pet: the answer (message_zh / message_en) and the class bars;
//   unsure: "maybe X, but unsure", the reason in words, the class bars;
//   not_pet: "not a cat or dog (looks more like ...)" and that one ImageNet guess, no class as its answer;
//   error: why the photo could not be read.
function renderResult(card, r) {
  card._result = r;
  card.querySelector(".file").textContent = r.path;
  const verdict = card.querySelector(".verdict"), reason = card.querySelector(".reason");
  const list = card.querySelector(".guesses");
  list.replaceChildren();
  reason.textContent = "";
  verdict.classList.remove("warn");
  card.dataset.verdict = r.verdict;
  card.querySelector(".error").textContent = r.verdict === "error" ? (r[`message_${lang}`] || r.error || "") : "";
  const sp = r.species ? t(r.species) : "";
  if (r.verdict === "pet") {
    verdict.textContent = r[`message_${lang}`];
  } else if (r.verdict === "unsure") {
    verdict.textContent = t("unsure_head", guessNames(r.top[0])[0], sp);
    reason.textContent = t("reason", r[`reason_${lang}`]);
    verdict.classList.add("warn");
  } else if (r.verdict === "not_pet") {
    verdict.textContent = r[`message_${lang}`];
    verdict.classList.add("warn");
  } else {
    verdict.textContent = "";
  }
  if (r.verdict === "pet" || r.verdict === "unsure") {
    for (const g of r.top || []) list.append(bar(g, g.species ? t(g.species) : ""));
  } else if (r.verdict === "not_pet" && r.imagenet_top) {
    const li = document.createElement("li"); li.className = "caption muted"; li.textContent = t("looks_like");
    list.append(li, bar(r.imagenet_top));
  }
  card.querySelector(".fix").hidden = r.verdict === "error" || !card._file;
  fillClassSelect(card.querySelector(".fix-class"));
}

function fillClassSelect(select) {
  const keep = select.value;
  select.replaceChildren(new Option(t("pick_class"), ""));
  for (const c of classes) select.append(new Option(c.name, c.id));
  select.append(new Option(t("new_class"), "+"));
  select.value = [...select.options].some(o => o.value === keep) ? keep : "";
}

async function fix(card) {
  let id = card.querySelector(".fix-class").value;
  const el = card.querySelector(".fix-status");
  try {
    if (id === "+") {
      const name = prompt(t("new_class_prompt"));
      if (!name) return;
      id = (await api("POST", "/api/classes", { name })).id;
    }
    if (!id) return;
    const form = new FormData();
    form.append("files", card._file, card._file.name || "photo.jpg");
    const added = await api("POST", `/api/classes/${encodeURIComponent(id)}/photos`, form);
    reportAdded(el, added, classes.find(c => c.id === id) || { name: "" });
    await loadClasses();
    await train(el);
  } catch (e) { fail(el)(e); await loadClasses().catch(() => {}); }
}

function renderExamples() {
  const box = $("#examples");
  box.hidden = $("#results").children.length > 0;
  if (box.querySelector("button")) return;
  for (const ex of EXAMPLES) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "example"; b.title = ex.name;
    const img = document.createElement("img"); img.src = ex.src; img.alt = ex.name;
    b.append(img);
    b.addEventListener("click", async () => {
      try {
        const blob = await (await fetch(ex.src)).blob();
        await recognise([new File([blob], ex.name, { type: blob.type })]);
      } catch (e) { fail($("#use-status"))(e); }
    });
    box.append(b);
  }
}

// ---------------------------------------------------------------- the webcam
let stream = null, live = false, recordingFor = null;

async function camera() {
  if (stream && stream.active) return stream;
  stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  return stream;
}
function releaseCamera() {
  if (!live && !recordingFor && stream) { for (const tr of stream.getTracks()) tr.stop(); stream = null; }
}

// one frame of a playing <video> as a JPEG blob (at most 640 pixels wide)
async function grab(video) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return null;
  const scale = Math.min(1, 640 / w);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise(r => canvas.toBlob(r, "image/jpeg", 0.9));
}

async function toggleLive() {
  const el = $("#use-status");
  if (live) { live = false; $("#live-box").hidden = true; $("#live").textContent = t("live"); releaseCamera(); return; }
  try {
    const video = $("#live-video");
    video.srcObject = await camera();
    await video.play().catch(() => {});
    live = true;
    $("#live-box").hidden = false;
    $("#live").textContent = t("live_stop");
    status(el, null);
    liveLoop(video);
  } catch (e) { status(el, () => t("no_camera", e.message || e.name), true); }
}

// about one frame a second: recognised, the live card redrawn with the answer
async function liveLoop(video) {
  let card = $("#live-card .result");
  if (!card) {
    card = $("#result-tpl").content.firstElementChild.cloneNode(true);
    for (const el of card.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    card.querySelector(".thumb").remove();
    $("#live-card").append(card);
  }
  while (live) {
    const t0 = performance.now();
    const blob = await grab(video);
    if (blob) {
      const form = new FormData();
      form.append("files", blob, "webcam.jpg");
      try {
        const [r] = await api("POST", "/api/predict", form);
        if (live) { card._file = null; renderResult(card, r); card.dataset.frames = String(Number(card.dataset.frames || 0) + 1); }
      } catch (e) { status($("#use-status"), () => errText(e), true); }
    }
    await sleep(Math.max(100, 1000 - (performance.now() - t0)));
  }
}

// hold to record: several frames a second into the class, uploaded as they come
let recording = false, recorded = 0, recAdded = 0, recQueue = [], recUploading = null;

// the recorder stays where it is while the classes are redrawn (a held button must not move)
async function openRecorder(c) {
  const panel = $("#recorder");
  try {
    recording = false;
    recordingFor = c.id;
    const video = $("#rec-video");
    video.srcObject = await camera();
    await video.play().catch(() => {});
    recorded = 0; recAdded = 0;
    panel.hidden = false;
    renderRecorder();
    panel.scrollIntoView({ block: "nearest" });
  } catch (e) {
    recordingFor = null; panel.hidden = true;
    const msg = e.message || e.name;
    classStatus[c.id] = { fn: () => t("no_camera", msg), bad: true };
    renderClasses();
  }
}

function closeRecorder() {
  recording = false;
  recordingFor = null;
  $("#recorder").hidden = true;
  releaseCamera();
  renderClasses();
}

function renderRecorder() {
  const c = classes.find(x => x.id === recordingFor);
  $("#rec-for").textContent = c ? t("camera_for", c.name) : "";
  $("#rec-count").textContent = recordingFor ? t("recording", recorded, recAdded) : "";
  for (const li of document.querySelectorAll("#classes .class-card")) li.classList.toggle("recording", li.dataset.id === recordingFor);
}

async function recordLoop() {
  const video = $("#rec-video");
  while (recording) {
    const t0 = performance.now();
    const blob = await grab(video);
    if (blob) { recQueue.push(blob); recorded += 1; renderRecorder(); }
    if (recQueue.length >= 4 && !recUploading) recUploading = flushRecording();
    await sleep(Math.max(20, 250 - (performance.now() - t0)));     // 4 frames a second
  }
  if (recUploading) await recUploading;
  await flushRecording();
}

async function flushRecording() {
  const id = recordingFor;
  const frames = recQueue.splice(0);
  if (!frames.length || !id) { recUploading = null; return; }
  const form = new FormData();
  frames.forEach((b, i) => form.append("files", b, `webcam-${Date.now()}-${i}.jpg`));
  const c = classes.find(x => x.id === id) || { name: "" };
  try {
    const added = await api("POST", `/api/classes/${encodeURIComponent(id)}/photos`, form);
    recAdded += added.filter(a => !a.error).length;
    classStatus[id] = addedStatus(added, c, recAdded);     // the whole recording so far
  } catch (e) { classStatus[id] = { fn: () => errText(e), bad: true }; }
  recUploading = null;
  renderRecorder();
  await loadClasses();
}

function startRecording(e) { if (e) e.preventDefault(); if (recording || !recordingFor) return; recording = true; recordLoop(); }
function stopRecording() { recording = false; }

// ---------------------------------------------------------------- teach
async function loadClasses() {
  classes = await api("GET", "/api/classes");
  await Promise.all(classes.map(async c => { photoLists[c.id] = await api("GET", `/api/classes/${c.id}/photos`); }));
  renderClasses();
  for (const s of document.querySelectorAll(".fix-class")) fillClassSelect(s);
  await loadTraining();
}

function reportAdded(el, added, c) { const s = addedStatus(added, c); status(el, s.fn, s.bad); }
function addedStatus(added, c, total) {
  const ok = total == null ? added.filter(a => !a.error).length : total;
  const bad = added.filter(a => a.error);
  return {
    fn: () => t("added", ok, c.name) + (bad.length ? t("sep") + t("refused", bad.length) +
               bad.map(a => t("item", a.path, a[`error_${lang}`] || a.error)).join(t("sep")) : ""),
    bad: bad.length > 0,
  };
}

async function addPhotos(c, files) {
  files = [...files].filter(f => f && (f.type.startsWith("image/") || /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i.test(f.name)));
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name || "photo.jpg");
  try {
    const added = await api("POST", `/api/classes/${encodeURIComponent(c.id)}/photos`, form);
    classStatus[c.id] = addedStatus(added, c);
  } catch (e) { classStatus[c.id] = { fn: () => errText(e), bad: true }; }
  await loadClasses();
}

function button(text, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

function fileButton(text, cls, setup, onFiles) {
  const label = document.createElement("label");
  label.className = `button ${cls}`;
  const span = document.createElement("span"); span.textContent = text;
  const input = document.createElement("input"); input.type = "file"; input.hidden = true;
  setup(input);
  input.addEventListener("change", () => { onFiles(input.files); input.value = ""; });
  label.append(span, input);
  return label;
}

function renderClasses() {
  const ul = $("#classes");
  ul.replaceChildren();
  for (const c of classes) {
    const li = document.createElement("li");
    li.className = "class-card"; li.tabIndex = 0; li.dataset.id = c.id;
    const head = document.createElement("div"); head.className = "class-head";
    const name = document.createElement("span"); name.className = "name"; name.textContent = c.name;
    const count = document.createElement("span"); count.className = "count muted"; count.textContent = t("photos", c.photos);
    head.append(name, count, button(t("rename"), () => renameClass(c), "small rename"));
    const actions = document.createElement("div"); actions.className = "class-actions";
    actions.append(
      fileButton(t("add_photos"), "add-photos", i => { i.accept = "image/*"; i.multiple = true; }, f => addPhotos(c, f)),
      fileButton(t("add_folder"), "add-folder", i => { i.webkitdirectory = true; i.multiple = true; }, f => addPhotos(c, f)),
      button(t("webcam"), () => openRecorder(c), "webcam"),
      button(t("remove"), () => removeClass(c), "remove"));
    const thumbs = document.createElement("div"); thumbs.className = "thumbs";
    const sel = selection[c.id] || (selection[c.id] = new Set());
    const ids = photoLists[c.id] || [];
    for (const pid of ids.slice(0, MAX_THUMBS)) {
      const tile = document.createElement("button");
      tile.type = "button"; tile.className = "tile"; tile.dataset.photo = pid;
      tile.setAttribute("aria-pressed", sel.has(pid) ? "true" : "false");
      const img = document.createElement("img"); img.alt = "";
      showImage(img, `/api/classes/${c.id}/photos/${encodeURIComponent(pid)}`);
      tile.append(img);
      tile.addEventListener("click", () => { sel.has(pid) ? sel.delete(pid) : sel.add(pid); renderClasses(); });
      thumbs.append(tile);
    }
    if (ids.length > MAX_THUMBS) thumbs.append(cell("span", t("more_photos", ids.length - MAX_THUMBS), "muted"));
    for (const pid of [...sel]) if (!(photoLists[c.id] || []).includes(pid)) sel.delete(pid);
    const bar = document.createElement("div"); bar.className = "selection row"; bar.hidden = sel.size === 0;
    const n = document.createElement("span"); n.textContent = t("selected", sel.size);
    const move = document.createElement("select"); move.className = "move-to";
    move.append(new Option(t("move_to"), ""));
    for (const o of classes) if (o.id !== c.id) move.append(new Option(o.name, o.id));
    move.addEventListener("change", () => movePhotos(c, move.value));
    bar.append(n, button(t("delete_selected"), () => deletePhotos(c), "delete-selected"), move);
    const st = document.createElement("p"); st.className = "status";
    li.append(head, actions, thumbs, bar, st);
    if (classStatus[c.id]) status(st, classStatus[c.id].fn, classStatus[c.id].bad);
    li.addEventListener("dragover", e => { e.preventDefault(); e.stopPropagation(); li.classList.add("over"); });
    li.addEventListener("dragleave", () => li.classList.remove("over"));
    li.addEventListener("drop", e => { e.preventDefault(); e.stopPropagation(); li.classList.remove("over"); addPhotos(c, e.dataTransfer.files); });
    ul.append(li);
  }
  renderRecorder();
}

async function renameClass(c) {
  const name = prompt(t("rename_prompt", c.name), c.name);
  if (!name || name === c.name) return;
  try {
    const out = await api("PATCH", `/api/classes/${encodeURIComponent(c.id)}`, { name });
    classStatus[c.id] = { fn: () => t("renamed", out.name) };
  } catch (e) { classStatus[c.id] = { fn: () => errText(e), bad: true }; }
  await loadClasses();
}

async function removeClass(c) {
  if (!confirm(t("confirm_remove", c.name))) return;
  try {
    await api("DELETE", `/api/classes/${encodeURIComponent(c.id)}`);
    if (recordingFor === c.id) closeRecorder();
    status($("#class-status"), () => t("removed", c.name));
  } catch (e) { classStatus[c.id] = { fn: () => errText(e), bad: true }; }
  await loadClasses();
}

async function deletePhotos(c) {
  const ids = [...selection[c.id]];
  try {
    for (const pid of ids) await api("DELETE", `/api/classes/${encodeURIComponent(c.id)}/photos/${encodeURIComponent(pid)}`);
    classStatus[c.id] = { fn: () => t("deleted_photos", ids.length) };
  } catch (e) { classStatus[c.id] = { fn: () => errText(e), bad: true }; }
  selection[c.id].clear();
  await loadClasses();
}

async function movePhotos(c, to) {
  if (!to) return;
  const ids = [...selection[c.id]];
  const target = classes.find(x => x.id === to) || { name: "" };
  try {
    for (const pid of ids) await api("POST", `/api/classes/${encodeURIComponent(c.id)}/photos/${encodeURIComponent(pid)}/move`, { to });
    classStatus[c.id] = { fn: () => t("moved_photos", ids.length, target.name) };
  } catch (e) { classStatus[c.id] = { fn: () => errText(e), bad: true }; }
  selection[c.id].clear();
  await loadClasses();
}

// ---------------------------------------------------------------- train
async function loadTraining() {
  trainState = await api("GET", "/api/train");
  renderReady();
}

// what is missing before training, as the server says it (both languages come with it)
function renderReady() {
  const el = $("#ready");
  const s = trainState;
  if (!s) return;
  if (!s.ready && s.missing) { status(el, () => s.missing[`message_${lang}`]); return; }
  const refused = $("#train-status");                 // a refusal for what is no longer missing
  if (refused._msg && refused._msg.bad && s.state !== "failed") status(refused, null);
  const n = classes.reduce((sum, c) => sum + c.photos, 0);
  if (n < s.review_photos) status(el, () => t("ready_but", s.review_photos, n));
  else status(el, () => t("ready"));
}

async function train(el) {
  el = el instanceof HTMLElement ? el : $("#train-status");
  try {
    trainState = await api("POST", "/api/train");
    $("#train").disabled = true;
    status(el, () => t("training"));
    await pollTraining(el);
  } catch (e) { fail(el)(e); }
}

function renderTraining() {
  const s = trainState, box = $("#train-box");
  if (!s || s.state !== "running") return;
  box.hidden = false;
  $("#train-progress").value = s.total ? s.step / s.total : 0;
  $("#train-text").textContent = `${T[lang].phase[s.phase] || s.phase || ""} ${s.total ? `${s.step} / ${s.total}` : ""}`;
}

async function pollTraining(el) {
  el = el || $("#train-status");
  for (;;) {
    const s = await api("GET", "/api/train").catch(() => null);
    if (s) trainState = s;
    if (s && s.state !== "running") break;
    renderTraining();
    await sleep(400);
  }
  const s = trainState;
  $("#train").disabled = false;
  if (s.state === "done") {
    $("#train-progress").value = 1;
    $("#train-text").textContent = "";
    $("#train-box").hidden = true;
    status(el, () => t("trained", s.version));
  } else if (s.state === "failed") {
    $("#train-box").hidden = true;
    status(el, () => s[`error_${lang}`] || s.error, true);
  }
  renderReady();
  await Promise.all([loadModel(), loadModels()]);
}

// ---------------------------------------------------------------- judge: held-out results
function cell(tag, text, cls) { const c = document.createElement(tag); c.textContent = text; if (cls) c.className = cls; return c; }

function renderJudge() {
  const section = $("#judge");
  const m = models.find(x => x.active && x.review);
  section.hidden = !m;
  if (!m) return;
  const r = m.review;
  const summary = $("#judge-summary"), perClass = $("#per-class"), conf = $("#confusion"), hard = $("#hard");
  perClass.replaceChildren(); conf.replaceChildren(); hard.replaceChildren();
  $("#judge-details").hidden = !r.available;
  if (!r.available) { summary.textContent = t("judge_missing", m.version, r.photos, r.needed); return; }
  const a = r.accuracy;
  summary.textContent = t("judge_summary", m.version, a.correct, a.n, a.low, a.high);
  const head = document.createElement("tr");
  head.append(cell("th", t("class")), cell("th", t("right")), cell("th", t("accuracy")), cell("th", t("interval")));
  perClass.append(head);
  for (const c of r.per_class) {
    const tr = document.createElement("tr");
    tr.append(cell("td", c.label), cell("td", `${c.correct}/${c.n}`, "num"), cell("td", pct(c.rate), "num"),
              cell("td", `${pct(c.low)}–${pct(c.high)}`, "num"));
    perClass.append(tr);
  }
  const top = document.createElement("tr");
  top.append(cell("th", t("truth")));
  for (const label of r.labels) top.append(cell("th", label));
  conf.append(top);
  const max = Math.max(1, ...r.confusion.flat());
  r.confusion.forEach((row, i) => {
    const tr = document.createElement("tr");
    tr.append(cell("th", r.labels[i]));
    row.forEach((v, j) => {
      const td = cell("td", String(v), `num ${i === j ? "diag" : v ? "off" : ""}`);
      td.style.setProperty("--heat", String(v / max));
      tr.append(td);
    });
    conf.append(tr);
  });
  for (const p of r.hard) {
    const fig = document.createElement("figure");
    fig.className = p.correct ? "unsure" : "wrong";
    const img = document.createElement("img"); img.alt = "";
    if (p.class_id) showImage(img, `/api/classes/${p.class_id}/photos/${encodeURIComponent(p.photo_id)}`);
    const cap = document.createElement("figcaption");
    cap.append(cell("span", t("truly", p.label)), cell("span", t("answered", p.answer, p.answer_score), p.correct ? "" : "bad"));
    fig.append(img, cap);
    hard.append(fig);
  }
}

// ---------------------------------------------------------------- keep: the models
async function loadModel() { model = await api("GET", "/api/model"); renderModel(); }

function renderModel() {
  if (!model) return;
  $("#model-line").textContent = t("model", model.version, model.labels.length);
  $("#rollback").disabled = !model.can_roll_back;
}

async function loadModels() { models = await api("GET", "/api/models"); renderModels(); renderJudge(); }

function when(ts) {
  if (!ts) return "–";
  const d = new Date(ts * 1000);
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "short", timeStyle: "short" });
}

function renderModels() {
  const table = $("#models");
  table.replaceChildren();
  const head = document.createElement("tr");
  for (const k of ["version", "date", "classes", "held_out", ""]) head.append(cell("th", k ? t(k) : ""));
  table.append(head);
  for (const m of models) {
    const tr = document.createElement("tr");
    tr.dataset.version = m.version;
    if (m.active) tr.className = "active";
    const name = m.version === "base" ? t("base_model") : m.version;
    const first = cell("td", name);
    first.append(cell("div", (T[lang].source[m.source] || m.source), "muted small"));
    const names = lang === "zh" && m.names && m.names.length === m.classes.length ? m.names : m.classes;
    const shown = names.slice(0, 6).join(lang === "zh" ? "、" : ", ") + (names.length > 6 ? "…" : "");
    const cls = cell("td", t("item", t("n_classes", m.classes.length), shown));
    const acc = m.review && m.review.available ? t("rate", m.review.accuracy) : "–";
    const actions = document.createElement("td");
    actions.className = "actions";
    if (m.active) actions.append(cell("span", t("active"), "badge"));
    else actions.append(button(t("activate"), () => activate(m.version), "activate"));
    if (m.downloadable) {
      actions.append(button(`${t("download")} .npz`, () => download(m.version, "npz"), "download-npz"),
                     button(`${t("download")} ONNX`, () => download(m.version, "onnx"), "download-onnx"));
    }
    if (!m.active && m.version !== "base") actions.append(button(t("delete"), () => deleteModel(m.version), "delete-model"));
    tr.append(first, cell("td", when(m.created)), cls, cell("td", acc, "num"), actions);
    ["version", "date", "classes", "held_out", ""].forEach((k, i) => { tr.children[i].dataset.label = k ? t(k) : ""; });
    table.append(tr);
  }
}

async function activate(version) {
  const el = $("#keep-status");
  try {
    model = await api("POST", `/api/models/${encodeURIComponent(version)}/activate`);
    renderModel();
    status(el, () => t("activated", version));
  } catch (e) { fail(el)(e); }
  await loadModels();
}

async function deleteModel(version) {
  const el = $("#keep-status");
  if (!confirm(t("confirm_delete_model", version))) return;
  try {
    await api("DELETE", `/api/models/${encodeURIComponent(version)}`);
    status(el, () => t("deleted_model", version));
  } catch (e) { fail(el)(e); }
  await Promise.all([loadModels(), loadModel()]);
}

async function download(version, kind) {
  const el = $("#keep-status");
  const file = `petnet-${version}.${kind}`;
  if (kind === "onnx") status(el, () => t("exporting", version));
  try {
    saveBlob(await fetchBlob(`/api/models/${encodeURIComponent(version)}/model.${kind}`), file);
    status(el, () => t("downloaded", file));
  } catch (e) { fail(el)(e); }
}

async function uploadModel(file) {
  const el = $("#keep-status");
  const form = new FormData();
  form.append("file", file, file.name || "model.npz");
  status(el, () => t("uploading"));
  try {
    const m = await api("POST", "/api/models", form);
    status(el, () => t("uploaded", m.version, m.classes.length));
  } catch (e) { fail(el)(e); }
  await loadModels();
}

// ---------------------------------------------------------------- wiring
function filesOfPaste(e) {
  return [...((e.clipboardData || {}).items || [])].filter(i => i.kind === "file").map(i => i.getAsFile()).filter(Boolean);
}

function setup() {
  const drop = $("#drop");
  $("#file-input").addEventListener("change", e => { recognise(e.target.files); e.target.value = ""; });
  $("#camera-input").addEventListener("change", e => { recognise(e.target.files); e.target.value = ""; });
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); recognise(e.dataTransfer.files); });
  // a paste goes to the class whose card has the focus, else it is recognised
  document.addEventListener("paste", e => {
    const files = filesOfPaste(e);
    if (!files.length) return;
    const card = document.activeElement && document.activeElement.closest && document.activeElement.closest(".class-card");
    const c = card && classes.find(x => x.id === card.dataset.id);
    if (c) addPhotos(c, files); else recognise(files);
  });
  $("#live").addEventListener("click", toggleLive);
  $("#clear").addEventListener("click", () => {
    for (const img of document.querySelectorAll("#results .thumb")) URL.revokeObjectURL(img.src);
    $("#results").replaceChildren();
    status($("#use-status"), () => t("cleared"));
    renderExamples();
  });
  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("petnet-lang", lang); applyLanguage(); });
  $("#token").value = localStorage.getItem("petnet-token") || "";
  $("#token-form").addEventListener("submit", e => {
    e.preventDefault();
    localStorage.setItem("petnet-token", $("#token").value.trim());
    status($("#token-status"), () => t("token_saved"));
    start();
  });
  $("#new-class").addEventListener("submit", async e => {
    e.preventDefault();
    const el = $("#class-status");
    try {
      const c = await api("POST", "/api/classes", { name: $("#class-name").value });
      $("#class-name").value = "";
      status(el, () => t("created", c.name));
    } catch (err) { fail(el)(err); }
    await loadClasses().catch(() => {});
  });
  $("#train").addEventListener("click", () => train($("#train-status")));
  $("#rollback").addEventListener("click", async () => {
    const el = $("#keep-status");
    try { model = await api("POST", "/api/model/rollback"); renderModel(); status(el, () => t("rolled_back", model.version)); }
    catch (e) { fail(el)(e); }
    await loadModels().catch(() => {});
  });
  $("#model-input").addEventListener("change", e => { if (e.target.files[0]) uploadModel(e.target.files[0]); e.target.value = ""; });
  const hold = $("#rec-hold");
  hold.addEventListener("pointerdown", e => { hold.setPointerCapture && hold.setPointerCapture(e.pointerId); startRecording(e); });
  for (const ev of ["pointerup", "pointercancel"]) hold.addEventListener(ev, stopRecording);
  hold.addEventListener("keydown", e => { if ((e.key === " " || e.key === "Enter") && !e.repeat) startRecording(e); });
  hold.addEventListener("keyup", e => { if (e.key === " " || e.key === "Enter") stopRecording(); });
  hold.addEventListener("contextmenu", e => e.preventDefault());
  $("#rec-close").addEventListener("click", closeRecorder);
  applyLanguage();
  renderExamples();
  start();
}

// what the page loads (again after a token is entered)
function start() {
  const el = $("#class-status");
  loadModel().catch(fail(el));
  loadModels().catch(() => {});
  loadClasses().catch(fail(el));
  api("GET", "/api/train").then(s => { trainState = s; renderReady(); if (s.state === "running") pollTraining(); }).catch(() => {});
}

document.addEventListener("DOMContentLoaded", setup);
