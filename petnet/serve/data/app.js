// petnet serve: the page. Plain JavaScript, no build step, no CDN. Text from the server is only
// ever put into the page with textContent (never as HTML).
"use strict";

const T = {
  zh: {
    title: "petnet 宠物识别", recognise: "认一认", drop_hint: "把照片拖到这里，或粘贴 (Ctrl+V)，或",
    choose: "选择照片", camera: "拍照", teach: "教它认识你的宠物",
    teach_hint: "建一个类别 (比如你家猫的名字)，每类至少放 2 张照片，至少 2 个类别，然后训练。训练好的模型认的是你的类别；随时可以退回之前的模型。",
    class_placeholder: "类别名称，如 咪咪", create: "新建类别", train: "训练", rollback: "退回之前的模型",
    token: "访问令牌", token_hint: "服务器用 --token 启动时需要", footer: "petnet · 照片只在这台服务器上处理",
    wrong: "不对？这是", fix: "加入并重新训练", lang: "English",
    working: n => `正在识别 ${n} 张照片…`, done: (n, ms) => `${n} 张照片，用时 ${ms} 毫秒`,
    maybe: "可能是", unsure: "可能是 (不确定)", notpet: "不像猫或狗", more_like: "更像",
    cat: "猫", dog: "狗", species: "物种", photos: n => `${n} 张照片`, add_photos: "添加照片",
    remove: "删除", confirm_remove: name => `删除类别 “${name}” 和它的照片？`,
    model: (v, n) => `模型: ${v === "base" ? "内置 37 个品种" : v} (${n} 类)`,
    phase: { features: "提取特征", training: "训练", calibration: "校准", saving: "保存" },
    trained: v => `训练完成: 模型 ${v} 已启用`, failed: e => `训练失败 (模型未变): ${e}`,
    added: (n, c) => `已加入 ${n} 张照片到 “${c}”`, need_token: "需要访问令牌: 请在下面填写",
    pick_class: "选择类别…", new_class: "新类别…", new_class_prompt: "新类别的名称:",
  },
  en: {
    title: "petnet pet recognition", recognise: "Recognise", drop_hint: "Drop photos here, paste (Ctrl+V), or",
    choose: "Choose photos", camera: "Take a photo", teach: "Teach it your pets",
    teach_hint: "Create a class (your cat's name, say), put at least 2 photos in each of at least 2 classes, then train. The trained model knows your classes; you can always go back to the previous model.",
    class_placeholder: "class name, e.g. Mimi", create: "Create class", train: "Train", rollback: "Back to the previous model",
    token: "Access token", token_hint: "needed when the server runs with --token", footer: "petnet · photos are processed on this server only",
    wrong: "Wrong? This is", fix: "Add and retrain", lang: "中文",
    working: n => `Recognising ${n} photo(s)…`, done: (n, ms) => `${n} photo(s) in ${ms} ms`,
    maybe: "Probably", unsure: "Maybe (unsure)", notpet: "Not a cat or dog", more_like: "looks more like",
    cat: "cat", dog: "dog", species: "species", photos: n => `${n} photo(s)`, add_photos: "Add photos",
    remove: "Delete", confirm_remove: name => `Delete the class "${name}" and its photos?`,
    model: (v, n) => `model: ${v === "base" ? "built-in 37 breeds" : v} (${n} classes)`,
    phase: { features: "features", training: "training", calibration: "calibrating", saving: "saving" },
    trained: v => `Training done: model ${v} is now used`, failed: e => `Training failed (model unchanged): ${e}`,
    added: (n, c) => `Added ${n} photo(s) to "${c}"`, need_token: "An access token is needed: enter it below",
    pick_class: "choose a class…", new_class: "new class…", new_class_prompt: "Name of the new class:",
  },
};

let lang = localStorage.getItem("petnet-lang") || "zh";
let classes = [];
let model = null;
const $ = sel => document.querySelector(sel);
const t = (key, ...a) => { const v = T[lang][key]; return typeof v === "function" ? v(...a) : v; };

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("#lang").textContent = t("lang");
  for (const card of document.querySelectorAll(".result")) if (card._result) renderResult(card, card._result);
  renderModel();
  renderClasses();
}

// ---------------------------------------------------------------- requests
async function api(method, url, body) {
  const headers = {};
  const token = $("#token").value || localStorage.getItem("petnet-token") || "";
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body && !(body instanceof FormData)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
  const res = await fetch(url, { method, headers, body });
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
  if (!res.ok) {
    if (res.status === 401) { $("#token-box").open = true; $("#token").focus(); }
    throw new Error((data && data.detail) || `HTTP ${res.status}`);
  }
  return data;
}

function say(text, bad) { const s = $("#status"); s.textContent = text; s.classList.toggle("error", !!bad); }

// ---------------------------------------------------------------- recognise
async function recognise(files) {
  files = [...files].filter(f => f && f.size >= 0);
  if (!files.length) return;
  say(t("working", files.length));
  const batch = document.createDocumentFragment();
  const cards = files.map(f => addCard(f, batch));
  $("#results").prepend(batch);
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name || "photo.jpg");
  const t0 = performance.now();
  try {
    const results = await api("POST", "/api/predict", form);
    results.forEach((r, i) => renderResult(cards[i], r));
    say(t("done", files.length, Math.round(performance.now() - t0)));
  } catch (e) {
    cards.forEach(c => { c.querySelector(".error").textContent = e.message; });
    say(e.message, true);
  }
}

function addCard(file, parent) {
  const card = $("#result-tpl").content.firstElementChild.cloneNode(true);
  card._file = file;
  card.querySelector(".thumb").src = URL.createObjectURL(file);
  card.querySelector(".file").textContent = file.name || "";
  for (const el of card.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  card.querySelector(".fix-go").addEventListener("click", () => fix(card));
  card.querySelector(".fix").hidden = true;
  parent.append(card);
  return card;
}

const pretty = label => String(label).replace(/_/g, " ");

// the first guess of an `imagenet_top`-like value: [{label,name,score}], [[label, score]], {label, score}
function firstGuess(x) {
  if (Array.isArray(x)) {
    if (x.length === 2 && typeof x[1] === "number" && !Array.isArray(x[0])) return { label: x[0], score: x[1] };
    return firstGuess(x[0]);
  }
  if (x && typeof x === "object") return x;
  return x == null ? null : { label: String(x) };
}

function guessNames(g) {
  const zh = g.name && g.name !== g.label ? g.name : "";
  const en = pretty(g.label);
  return lang === "zh" ? [zh || en, zh ? en : ""] : [en, zh];
}

function renderResult(card, r) {
  card._result = r;
  card.querySelector(".file").textContent = r.path;
  const verdict = card.querySelector(".verdict");
  const list = card.querySelector(".guesses");
  list.replaceChildren();
  verdict.classList.remove("warn");
  card.querySelector(".error").textContent = r.error || "";
  const top = r.top || [];
  let v = "";
  if (r.is_pet === false) {
    const g = firstGuess(r.imagenet_top);
    v = t("notpet");
    if (g) v += ` (${t("more_like")}: ${guessNames(g).filter(Boolean).join(" ")}` +
               (typeof g.score === "number" ? `, score = ${g.score.toFixed(2)})` : ")");
    verdict.classList.add("warn");
  } else if (top.length) {
    v = `${r.unsure ? t("unsure") : t("maybe")}: ${guessNames(top[0])[0]}`;
    if (r.unsure) verdict.classList.add("warn");
  }
  if (r.species === "cat" || r.species === "dog") v += ` · ${t("species")}: ${t(r.species)}`;
  verdict.textContent = v;
  for (const g of top) {
    const li = document.createElement("li");
    li.className = "guess";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${Math.max(0, Math.min(1, g.score)) * 100}%`;
    const text = document.createElement("div");
    text.className = "text";
    const left = document.createElement("span");
    const [first, second] = guessNames(g);
    const p = document.createElement("span"); p.className = "primary"; p.textContent = first;
    left.append(p);
    if (second) { const s = document.createElement("span"); s.className = "secondary"; s.textContent = second; left.append(s); }
    const score = document.createElement("span"); score.className = "score"; score.textContent = `${(100 * g.score).toFixed(1)}%`;
    text.append(left, score);
    li.append(bar, text);
    list.append(li);
  }
  card.querySelector(".fix").hidden = !!r.error;
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
  try {
    if (id === "+") {
      const name = prompt(t("new_class_prompt"));
      if (!name) return;
      id = (await api("POST", "/api/classes", { name })).id;
    }
    if (!id) return;
    const form = new FormData();
    form.append("files", card._file, card._file.name || "photo.jpg");
    await api("POST", `/api/classes/${encodeURIComponent(id)}/photos`, form);
    await loadClasses();
    await train();
  } catch (e) { say(e.message, true); }
}

// ---------------------------------------------------------------- teach
async function loadClasses() {
  classes = await api("GET", "/api/classes");
  renderClasses();
}

function renderClasses() {
  const ul = $("#classes");
  ul.replaceChildren();
  for (const c of classes) {
    const li = document.createElement("li");
    const name = document.createElement("span"); name.className = "name"; name.textContent = c.name;
    const count = document.createElement("span"); count.className = "muted"; count.textContent = t("photos", c.photos);
    const thumbs = document.createElement("span"); thumbs.className = "thumbs grow";
    api("GET", `/api/classes/${c.id}/photos`).then(ids => {
      for (const pid of ids.slice(-8)) {
        const img = document.createElement("img");
        img.src = `/api/classes/${c.id}/photos/${encodeURIComponent(pid)}`; img.alt = "";
        thumbs.append(img);
      }
    }).catch(() => {});
    const add = document.createElement("label"); add.className = "button";
    add.textContent = t("add_photos");
    const input = document.createElement("input"); input.type = "file"; input.accept = "image/*"; input.multiple = true; input.hidden = true;
    input.addEventListener("change", () => addPhotos(c, input.files));
    add.append(input);
    const del = document.createElement("button"); del.type = "button"; del.textContent = t("remove");
    del.addEventListener("click", async () => {
      if (!confirm(t("confirm_remove", c.name))) return;
      try { await api("DELETE", `/api/classes/${c.id}`); await loadClasses(); } catch (e) { say(e.message, true); }
    });
    li.append(name, count, thumbs, add, del);
    ul.append(li);
  }
  for (const s of document.querySelectorAll(".fix-class")) fillClassSelect(s);
}

async function addPhotos(c, files) {
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name || "photo.jpg");
  try {
    const added = await api("POST", `/api/classes/${c.id}/photos`, form);
    const ok = added.filter(a => !a.error).length;
    const bad = added.filter(a => a.error).map(a => `${a.path}: ${a.error}`);
    say([t("added", ok, c.name), ...bad].join(" · "), bad.length > 0);
    await loadClasses();
  } catch (e) { say(e.message, true); }
}

async function train() {
  try {
    await api("POST", "/api/train");
    $("#train").disabled = true;
    pollTraining();
  } catch (e) { say(e.message, true); }
}

async function pollTraining() {
  const box = $("#train-box"), bar = $("#train-progress"), text = $("#train-text");
  box.hidden = false;
  const s = await api("GET", "/api/train").catch(() => null);
  if (!s) { setTimeout(pollTraining, 1000); return; }
  if (s.state === "running") {
    bar.value = s.total ? s.step / s.total : 0;
    text.textContent = `${T[lang].phase[s.phase] || s.phase} ${s.total ? `${s.step} / ${s.total}` : ""}`;
    setTimeout(pollTraining, 400);
    return;
  }
  $("#train").disabled = false;
  if (s.state === "done") { bar.value = 1; text.textContent = t("trained", s.version); say(t("trained", s.version)); }
  else if (s.state === "failed") { text.textContent = t("failed", s.error); say(t("failed", s.error), true); }
  else box.hidden = true;
  await loadModel();
}

async function loadModel() {
  model = await api("GET", "/api/model");
  renderModel();
}

function renderModel() {
  if (!model) return;
  $("#model-line").textContent = t("model", model.version, model.labels.length);
  $("#rollback").disabled = !model.can_roll_back;
}

// ---------------------------------------------------------------- wiring
function setup() {
  const drop = $("#drop");
  $("#file-input").addEventListener("change", e => { recognise(e.target.files); e.target.value = ""; });
  $("#camera-input").addEventListener("change", e => { recognise(e.target.files); e.target.value = ""; });
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); recognise(e.dataTransfer.files); });
  document.addEventListener("paste", e => {
    const files = [...(e.clipboardData || {}).items || []].filter(i => i.kind === "file").map(i => i.getAsFile());
    if (files.length) recognise(files);
  });
  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("petnet-lang", lang); applyLanguage(); });
  $("#token").value = localStorage.getItem("petnet-token") || "";
  $("#token").addEventListener("change", e => localStorage.setItem("petnet-token", e.target.value));
  $("#token-form").addEventListener("submit", e => { e.preventDefault(); localStorage.setItem("petnet-token", $("#token").value); });
  $("#new-class").addEventListener("submit", async e => {
    e.preventDefault();
    try { await api("POST", "/api/classes", { name: $("#class-name").value }); $("#class-name").value = ""; await loadClasses(); }
    catch (err) { say(err.message, true); }
  });
  $("#train").addEventListener("click", train);
  $("#rollback").addEventListener("click", async () => {
    try { model = await api("POST", "/api/model/rollback"); renderModel(); } catch (e) { say(e.message, true); }
  });
  applyLanguage();
  loadModel().catch(e => say(e.message, true));
  loadClasses().catch(e => say(e.message, true));
  api("GET", "/api/train").then(s => { if (s.state === "running") pollTraining(); }).catch(() => {});
}

document.addEventListener("DOMContentLoaded", setup);
