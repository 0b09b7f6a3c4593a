// The classroom playground page: pick a scenario, move its levers, rerun, compare with the baseline.
// Talks only to this server (/api/...); plotly.js is served by it too.
"use strict";

const T = {
  title: ["私域课堂演练", "Siyu classroom playground"],
  scenario: ["场景", "Scenario"],
  reset: ["恢复基准", "Reset to baseline"],
  lang: ["English", "中文"],
  metrics: ["关键指标", "Key metrics"],
  metricsIntro: [
    "基准与调整后各 {reps} 次重复仿真、同一随机种子 {seed}（共同随机数），变化为配对差值及其 95% 置信区间；" +
      "加粗表示置信区间不含 0。",
    "Baseline and variant each run {reps} replications on the same seed {seed} (common random numbers); " +
      "the change is the paired difference with its 95% CI, in bold when the CI excludes 0.",
  ],
  metric: ["指标", "metric"],
  baseline: ["基准", "baseline"],
  variant: ["调整后", "variant"],
  change: ["变化（95% 置信区间）", "change (95% CI)"],
  figures: ["图表", "Figures"],
  running: ["正在运行 {reps} 次重复仿真…", "Running {reps} replications…"],
  runningFirst: ["正在运行基准（最多 {reps} 次重复仿真）…", "Running the baseline (up to {reps} replications)…"],
  ready: ["{reps} 次重复，种子 {seed}，用时 {seconds} 秒", "{reps} replications, seed {seed}, {seconds} s"],
  readyCached: ["{reps} 次重复，种子 {seed}（已算过，直接显示）", "{reps} replications, seed {seed} (already run)"],
  unchanged: ["与基准相同：移动左侧滑块试试。", "Same as the baseline: move a slider on the left."],
  changed: ["已调整：{list}", "Changed: {list}"],
  baselineValue: ["基准：{value}", "baseline: {value}"],
  allowed: ["允许：{allowed}", "allowed: {allowed}"],
  failed: ["出错：{message}", "Error: {message}"],
  problems: ["未能载入的文件", "Files that did not load"],
  same: ["无变化", "no change"],
  days: ["天", "days"],
  pp: ["个百分点", "pp"],
  stop: ["。", ". "],
  and: ["；", "; "],
};

const state = {
  lang: "zh",
  info: null, // /api/scenarios
  levers: null, // /api/levers
  result: null, // last /api/run answer
  running: false,
  pending: false,
  timer: null,
  runs: 0,
};

const $ = (selector) => document.querySelector(selector);
const langIndex = () => (state.lang === "zh" ? 0 : 1);
function t(key, values = {}) {
  let words = T[key][langIndex()];
  for (const [name, value] of Object.entries(values)) words = words.replaceAll(`{${name}}`, value);
  return words;
}
const pick = (pair) => (pair ? pair[state.lang] : "");
const named = (item) => (state.lang === "zh" ? item.zh : item.en);

// ------------------------------------------------------------------ numbers
function locale() {
  return state.lang === "zh" ? "zh-CN" : "en-US";
}
function number(value, digits, fixed = false) {
  // a value that rounds to zero is shown as 0, never "-0"
  const shown = Number(value.toFixed(digits)) === 0 ? 0 : value;
  return new Intl.NumberFormat(locale(), {
    maximumFractionDigits: digits,
    minimumFractionDigits: fixed ? digits : 0,
  }).format(shown);
}
function format(value, unit, signed = false) {
  if (value === null || value === undefined) return "—";
  const sign = signed && value > 0 ? "+" : "";
  const size = Math.abs(value);
  switch (unit) {
    case "money": {
      const currency = state.levers ? state.levers.currency : "CNY";
      const digits = size >= 1000 || Number.isInteger(value) ? 0 : 2;
      const text = new Intl.NumberFormat(locale(), {
        style: "currency",
        currency,
        currencyDisplay: "narrowSymbol",
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }).format(Number(value.toFixed(digits)) === 0 ? 0 : value);
      return sign + text;
    }
    case "share":
      return signed
        ? `${sign}${number(value * 100, 1, true)} ${t("pp")}`
        : `${number(value * 100, 1, true)}%`;
    case "ratio":
      return sign + number(value, 2);
    case "days":
      return `${sign}${number(value, 1)} ${t("days")}`;
    default:
      return sign + number(value, size >= 100 ? 0 : 1);
  }
}
function leverValue(value, unit) {
  return unit === "share" ? `${number(value * 100, 2)}%` : format(value, unit);
}

// ------------------------------------------------------------------ requests
async function getJSON(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = { error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) {
    const failure = new Error(body.error || response.statusText);
    failure.field = body.field || null;
    failure.status = response.status;
    throw failure;
  }
  return body;
}

// ------------------------------------------------------------------ scenario list and levers
async function start() {
  state.lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
  state.info = await getJSON("/api/scenarios");
  const select = $("#scenario");
  const groups = new Map();
  for (const scenario of state.info.scenarios) {
    const folder = scenario.key.includes("/") ? scenario.key.split("/")[0] : ".";
    if (!groups.has(folder)) groups.set(folder, []);
    groups.get(folder).push(scenario);
  }
  for (const [folder, scenarios] of groups) {
    const group = document.createElement("optgroup");
    const root = state.info.folder.split(/[\\/]/).filter(Boolean).pop() || state.info.folder;
    group.label = folder === "." ? `${root}/` : `${root}/${folder}/`;
    for (const scenario of scenarios) {
      const option = document.createElement("option");
      option.value = scenario.key;
      option.textContent = scenario.name;
      option.title = scenario.key;
      group.appendChild(option);
    }
    select.appendChild(group);
  }
  if (state.info.problems.length) {
    $("#problems").hidden = false;
    $("#problems pre").textContent = state.info.problems.join("\n\n");
  }
  const wanted = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (state.info.scenarios.some((scenario) => scenario.key === wanted)) select.value = wanted;
  select.addEventListener("change", () => loadScenario(select.value));
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    renderAll();
  });
  $("#reset").addEventListener("click", resetLevers);
  await loadScenario(select.value);
}

async function loadScenario(key) {
  history.replaceState(null, "", `${location.pathname}${location.search}#${encodeURIComponent(key)}`);
  state.levers = await getJSON(`/api/levers?scenario=${encodeURIComponent(key)}`);
  state.result = null;
  renderLevers();
  renderTexts();
  rerun();
}

function renderLevers() {
  const aside = $("#levers");
  aside.replaceChildren();
  const { sliders, choices, groups } = state.levers;
  for (const group of groups) {
    const mine = [
      ...choices.filter((choice) => choice.group === group.id).map((choice) => [choice, "choice"]),
      ...sliders.filter((slider) => slider.group === group.id).map((slider) => [slider, "slider"]),
    ];
    if (!mine.length) continue;
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.dataset.zh = group.zh;
    legend.dataset.en = group.en;
    fieldset.appendChild(legend);
    if (group.note.zh) {
      const note = document.createElement("p");
      note.className = "note";
      note.dataset.zh = group.note.zh;
      note.dataset.en = group.note.en;
      fieldset.appendChild(note);
    }
    for (const [lever, kind] of mine) fieldset.appendChild(kind === "slider" ? sliderElement(lever) : choiceElement(lever));
    aside.appendChild(fieldset);
  }
}

function leverShell(lever) {
  const box = document.createElement("div");
  box.className = "lever";
  box.dataset.path = lever.path;
  const label = document.createElement("label");
  label.dataset.zh = lever.zh;
  label.dataset.en = lever.en;
  label.htmlFor = `lever-${lever.path}`;
  box.appendChild(label);
  return box;
}

function withNotes(box, control) {
  // the control, then the baseline's value and the lever's error (hidden until there is one)
  const note = document.createElement("div");
  note.className = "baseline";
  const error = document.createElement("div");
  error.className = "error";
  error.hidden = true;
  box.append(control, note, error);
  return box;
}

function sliderElement(slider) {
  const box = leverShell(slider);
  box.dataset.kind = "slider";
  const row = document.createElement("div");
  row.className = "row";
  const range = document.createElement("input");
  range.type = "range";
  range.min = slider.minimum;
  range.max = slider.maximum;
  range.step = slider.step;
  range.value = slider.value;
  range.setAttribute("aria-label", slider.en);
  const box2 = document.createElement("input");
  box2.type = "number";
  box2.id = `lever-${slider.path}`;
  box2.step = "any";
  box2.value = slider.value;
  range.addEventListener("input", () => {
    box2.value = range.value;
    markChanged(box, slider);
  });
  range.addEventListener("change", () => schedule());
  box2.addEventListener("change", () => {
    const value = Number(box2.value);
    if (box2.value !== "" && Number.isFinite(value) && value >= slider.minimum && value <= slider.maximum) range.value = value;
    markChanged(box, slider);
    schedule();
  });
  row.append(range, box2);
  return withNotes(box, row);
}

function choiceElement(choice) {
  const box = leverShell(choice);
  box.dataset.kind = "choice";
  const select = document.createElement("select");
  select.id = `lever-${choice.path}`;
  for (const option of choice.options) {
    const element = document.createElement("option");
    element.value = option.id;
    element.dataset.zh = option.zh;
    element.dataset.en = option.en;
    select.appendChild(element);
  }
  select.value = choice.value;
  select.addEventListener("change", () => {
    box.classList.toggle("changed", select.value !== choice.value);
    schedule();
  });
  return withNotes(box, select);
}

function markChanged(box, slider) {
  box.classList.toggle("changed", Number(box.querySelector("input[type=number]").value) !== slider.value);
}

function currentChanges() {
  const values = {};
  const choices = {};
  for (const slider of state.levers.sliders) {
    const input = document.getElementById(`lever-${slider.path}`);
    const raw = input.value.trim();
    if (raw === "" || Number(raw) !== slider.value) values[slider.path] = raw === "" || Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  for (const choice of state.levers.choices) {
    const select = document.getElementById(`lever-${choice.path}`);
    if (select.value !== choice.value) choices[choice.path] = select.value;
  }
  return { values, choices };
}

function resetLevers() {
  for (const slider of state.levers.sliders) {
    const box = document.querySelector(`.lever[data-path="${CSS.escape(slider.path)}"]`);
    box.querySelector("input[type=range]").value = slider.value;
    box.querySelector("input[type=number]").value = slider.value;
    box.classList.remove("changed");
  }
  for (const choice of state.levers.choices) {
    document.getElementById(`lever-${choice.path}`).value = choice.value;
    document.querySelector(`.lever[data-path="${CSS.escape(choice.path)}"]`).classList.remove("changed");
  }
  schedule(0);
}

// ------------------------------------------------------------------ reruns
function schedule(delay = 250) {
  clearTimeout(state.timer);
  state.timer = setTimeout(rerun, delay);
}

async function rerun() {
  if (state.running) {
    state.pending = true;
    return;
  }
  state.running = true;
  state.pending = false;
  document.body.dataset.state = "running";
  renderStatus();
  const key = state.levers.key;
  const { values, choices } = currentChanges();
  let outcome = "ready";
  try {
    const answer = await getJSON("/api/run", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ scenario: key, values, choices }),
    });
    if (state.levers.key === key) {
      state.result = answer;
      state.error = null;
      state.runs += 1;
    }
  } catch (error) {
    state.error = error;
    outcome = "error";
  } finally {
    state.running = false;
  }
  await renderAll();
  // Only now, with the page drawn, say so (the browser test waits for these).
  document.body.dataset.runs = String(state.runs);
  document.body.dataset.state = outcome;
  if (state.pending) rerun();
}

// ------------------------------------------------------------------ rendering
async function renderAll() {
  renderTexts();
  renderErrors();
  renderMetrics();
  await renderFigures();
}

function renderTexts() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("title")} · ${state.levers ? state.levers.name : ""}`;
  $("#title").textContent = t("title");
  $("#scenario-label").textContent = t("scenario");
  $("#reset").textContent = t("reset");
  $("#lang").textContent = t("lang");
  $("#metrics-heading").textContent = t("metrics");
  $("#figures-heading").textContent = t("figures");
  $("#col-metric").textContent = t("metric");
  $("#col-baseline").textContent = t("baseline");
  $("#col-variant").textContent = t("variant");
  $("#col-change").textContent = t("change");
  $("#problems-heading").textContent = t("problems");
  if (state.result) $("#metrics-intro").textContent = t("metricsIntro", { reps: state.result.reps, seed: state.result.seed });
  if (state.levers) $("#description").textContent = state.levers.description;
  for (const element of document.querySelectorAll("[data-zh]")) element.textContent = element.dataset[state.lang];
  if (state.levers) {
    for (const slider of state.levers.sliders) {
      const box = document.querySelector(`.lever[data-path="${CSS.escape(slider.path)}"]`);
      box.querySelector(".baseline").textContent =
        `${t("baselineValue", { value: leverValue(slider.value, slider.unit) })} · ${t("allowed", { allowed: slider.allowed[state.lang] })}`;
    }
    for (const choice of state.levers.choices) {
      const box = document.querySelector(`.lever[data-path="${CSS.escape(choice.path)}"]`);
      const option = choice.options.find((item) => item.id === choice.value);
      box.querySelector(".baseline").textContent = t("baselineValue", { value: option ? named(option) : choice.value });
    }
  }
  renderStatus();
}

function renderStatus() {
  const status = $("#status");
  if (!state.info) return;
  if (state.running) {
    status.textContent = state.result
      ? t("running", { reps: state.result.reps })
      : t("runningFirst", { reps: state.info.reps });
    return;
  }
  if (!state.result) {
    status.textContent = "";
    return;
  }
  const result = state.result;
  const summary = result.cached
    ? t("readyCached", { reps: result.reps, seed: result.seed })
    : t("ready", { reps: result.reps, seed: result.seed, seconds: number(result.seconds, 1) });
  const { values, choices } = currentChanges();
  const changed = [...Object.keys(values), ...Object.keys(choices)].map((path) => {
    const lever = [...state.levers.sliders, ...state.levers.choices].find((item) => item.path === path);
    return lever ? named(lever) : path;
  });
  status.textContent = `${summary}${t("stop")}${changed.length ? t("changed", { list: changed.join(t("and")) }) : t("unchanged")}`;
}

function renderErrors() {
  for (const box of document.querySelectorAll(".lever")) {
    box.classList.remove("invalid");
    const slot = box.querySelector(".error");
    slot.hidden = true;
    slot.textContent = "";
  }
  const banner = $("#request-error");
  banner.hidden = true;
  const error = state.error;
  if (!error) return;
  const box = error.field ? document.querySelector(`.lever[data-path="${CSS.escape(error.field)}"]`) : null;
  if (box) {
    box.classList.add("invalid");
    const slot = box.querySelector(".error");
    slot.textContent = error.message;
    slot.hidden = false;
  }
  banner.textContent = t("failed", { message: error.message });
  banner.hidden = false;
}

function changeCell(cell, row) {
  const difference = row.difference;
  const mean = difference.diff_mean;
  cell.className = "change";
  if (mean === null || mean === undefined) {
    cell.textContent = "—";
    return;
  }
  if (mean === 0 && difference.ci_low === 0 && difference.ci_high === 0) {
    cell.classList.add("same");
    cell.textContent = t("same");
    return;
  }
  const significant =
    difference.ci_low !== null && difference.ci_high !== null && (difference.ci_low > 0 || difference.ci_high < 0);
  if (significant) cell.classList.add(mean > 0 ? "up" : "down");
  cell.textContent = `${mean > 0 ? "▲" : mean < 0 ? "▼" : ""} ${format(mean, row.unit, true)}`;
  if (difference.ci_low !== null) {
    const ci = document.createElement("span");
    ci.className = "ci";
    ci.textContent = `[${format(difference.ci_low, row.unit, true)}, ${format(difference.ci_high, row.unit, true)}]`;
    cell.appendChild(ci);
  }
}

function valueCell(cell, summary, unit) {
  cell.textContent = format(summary.mean, unit);
  if (summary.ci_low !== null && summary.ci_low !== summary.ci_high) {
    const ci = document.createElement("span");
    ci.className = "ci";
    ci.textContent = `[${format(summary.ci_low, unit)}, ${format(summary.ci_high, unit)}]`;
    cell.appendChild(ci);
  }
}

function renderMetrics() {
  const body = $("#metrics tbody");
  body.replaceChildren();
  if (!state.result) return;
  for (const row of state.result.metrics) {
    const line = document.createElement("tr");
    line.dataset.metric = row.name;
    const name = document.createElement("td");
    name.textContent = named(row);
    name.title = row.definition[state.lang];
    const before = document.createElement("td");
    before.className = "baseline";
    valueCell(before, row.baseline, row.unit);
    const after = document.createElement("td");
    after.className = "variant";
    valueCell(after, row.variant, row.unit);
    const change = document.createElement("td");
    changeCell(change, row);
    line.append(name, before, after, change);
    body.appendChild(line);
  }
}

function plot(element, figure) {
  const layout = { ...figure.layout, autosize: true };
  return Plotly.react(element, figure.data, layout, { displaylogo: false, responsive: true });
}

// Baseline and variant on the same value axis, so that the eye compares heights honestly.
async function shareValueAxis(left, right) {
  const a = left._fullLayout && left._fullLayout.yaxis;
  const b = right._fullLayout && right._fullLayout.yaxis;
  if (!a || !b || a.type !== "linear" || b.type !== "linear" || !a.range || !b.range) return;
  const range = [Math.min(a.range[0], b.range[0]), Math.max(a.range[1], b.range[1])];
  await Promise.all([Plotly.relayout(left, { "yaxis.range": range }), Plotly.relayout(right, { "yaxis.range": range })]);
}

async function renderFigures() {
  const holder = $("#figures");
  if (!state.result) {
    holder.replaceChildren();
    return;
  }
  const existing = new Map([...holder.querySelectorAll(".figure")].map((element) => [element.dataset.key, element]));
  const order = state.result.figures.map((figure) => figure.key);
  for (const [key, element] of existing) if (!order.includes(key)) element.remove();
  for (const figure of state.result.figures) {
    let box = existing.get(figure.key);
    if (!box) {
      box = document.createElement("div");
      box.className = "figure";
      box.dataset.key = figure.key;
      box.innerHTML =
        '<h3></h3><p class="note"></p><div class="pair">' +
        '<div><h4 class="side-baseline"></h4><div class="plot baseline"></div></div>' +
        '<div><h4 class="side-variant"></h4><div class="plot variant"></div></div></div>';
      holder.appendChild(box);
    }
    box.querySelector("h3").textContent = figure.title[state.lang];
    box.querySelector(".note").textContent = figure.caption[state.lang];
    box.querySelector(".side-baseline").textContent = t("baseline");
    box.querySelector(".side-variant").textContent = t("variant");
    const left = box.querySelector(".plot.baseline");
    const right = box.querySelector(".plot.variant");
    await Promise.all([plot(left, figure.baseline[state.lang]), plot(right, figure.variant[state.lang])]);
    await shareValueAxis(left, right);
  }
}

start().catch((error) => {
  state.error = error;
  document.body.dataset.state = "error";
  const banner = $("#request-error");
  banner.textContent = String(error.message || error);
  banner.hidden = false;
});
