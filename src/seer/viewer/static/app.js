// Seer's viewer: plain JavaScript, no build step, nothing fetched from the internet.
// Updates arrive by Server-Sent Events; cells and transcript events load in pages as they come into view.
"use strict";

const app = document.getElementById("app");
const WINDOW = 50;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "html") node.innerHTML = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const escapeHtml = (text) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const KEYWORDS = new Set("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(" "));
const TOKENS = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|\b(\d+(?:\.\d+)?)\b|\b([A-Za-z_]\w*)\b/g;

function highlight(source) {
  let out = "", last = 0;
  for (const match of source.matchAll(TOKENS)) {
    out += escapeHtml(source.slice(last, match.index));
    const [text, comment, string, number, word] = match;
    if (comment) out += `<span class="com">${escapeHtml(text)}</span>`;
    else if (string) out += `<span class="str">${escapeHtml(text)}</span>`;
    else if (number) out += `<span class="num">${text}</span>`;
    else if (word && KEYWORDS.has(word)) out += `<span class="kw">${text}</span>`;
    else out += escapeHtml(text);
    last = match.index + text.length;
  }
  return out + escapeHtml(source.slice(last));
}

const fmt = {
  duration: (s) => (s == null ? "" : s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`),
  cost: (c) => (c == null ? "" : `$${c.toFixed(4)}`),
  score: (row) => (row.score == null ? "" : `${row.score}${row.correct === true ? " ✓" : row.correct === false ? " ✗" : ""}`),
};

// ---- the runs page -------------------------------------------------------------------------------

function runsPage() {
  document.getElementById("where").textContent = "runs";
  const columns = [
    ["id", "Run"], ["task", "Task"], ["model", "Agent"], ["status", "Status"], ["duration_s", "Duration"],
    ["tokens", "Tokens"], ["cost_usd", "Cost"], ["score", "Score"],
  ];
  let rows = [], sortKey = "started_at", ascending = false;
  const head = el("tr");
  const body = el("tbody");
  for (const [key, title] of columns) {
    const th = el("th", { "data-key": key, text: title });
    th.onclick = () => { ascending = sortKey === key ? !ascending : true; sortKey = key; draw(); };
    head.append(th);
  }
  app.replaceChildren(el("table", { class: "runs" }, el("thead", {}, head), body));

  function draw() {
    const sorted = [...rows].sort((a, b) => {
      const x = a[sortKey] ?? "", y = b[sortKey] ?? "";
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    for (const th of head.children) th.className = th.dataset.key === sortKey ? `sorted${ascending ? " asc" : ""}` : "";
    body.replaceChildren(...sorted.map((row) => el("tr", { "data-run": row.id },
      el("td", {}, el("a", { href: `/run/${row.id}`, text: row.id })),
      el("td", { text: row.task || "" }),
      el("td", { text: [row.provider, row.model].filter(Boolean).join(" · ") }),
      el("td", { class: `status ${row.status.split(":")[0]}`, text: row.status }),
      el("td", { text: fmt.duration(row.duration_s) }),
      el("td", { text: row.tokens ?? "" }),
      el("td", { text: fmt.cost(row.cost_usd) }),
      el("td", { text: fmt.score(row) }),
    )));
    if (!rows.length) body.replaceChildren(el("tr", {}, el("td", { colspan: "8", text: "No runs yet." })));
  }
  const source = new EventSource("/api/runs/stream");
  source.addEventListener("runs", (event) => { rows = JSON.parse(event.data); draw(); });
}

// ---- one run ---------------------------------------------------------------------------------------

function renderOutputs(runId, cell) {
  return cell.outputs.map((output) => {
    switch (output.kind) {
      case "stream": return el("pre", { class: output.name === "stderr" ? "stderr" : "stdout", text: output.text });
      case "error": return el("pre", { class: "error", text: output.text });
      case "image": return el("img", { src: `/api/runs/${runId}/cells/${cell.index}/outputs/${output.output}`, alt: `figure in cell ${cell.index}`, loading: "lazy" });
      case "html": { const frame = el("iframe", { sandbox: "", title: `HTML output of cell ${cell.index}` }); frame.srcdoc = output.html; return frame; }
      default: return el("pre", { text: output.text });
    }
  });
}

function fillCell(node, runId, cell) {
  node.className = `cell ${cell.type}${cell.status === "running" ? " running" : ""}${node.classList.contains("active") ? " active" : ""}`;
  const label = cell.type === "code"
    ? `[${cell.execution_count ?? " "}] cell ${cell.index}${cell.status ? ` · ${cell.status}` : ""}${cell.duration_s != null ? ` · ${cell.duration_s.toFixed(2)} s` : ""}`
    : `cell ${cell.index} · notes`;
  const body = cell.type === "code" ? el("pre", { class: "source", html: highlight(cell.source) }) : el("div", { class: "md", text: cell.source });
  node.replaceChildren(el("div", { class: "label", text: label }), body, ...renderOutputs(runId, cell));
  node.dataset.loaded = "1";
}

function renderEvent(event) {
  const node = el("div", { class: `event ${event.kind}${event.is_error ? " error" : ""}` });
  const parts = [el("div", { class: "kind", text: `${event.kind.replace("_", " ")}${event.name ? ` · ${event.name}` : ""}` })];
  const chars = event.text_chars ?? event.text?.length ?? 0;
  if (event.text) parts.push(el("pre", { text: chars > 4000 ? `${event.text.slice(0, 4000)} … (${chars} characters; the full text is in transcript.jsonl)` : event.text }));
  for (const call of event.tool_calls || []) parts.push(el("pre", { text: `→ ${call.name}(${JSON.stringify(call.arguments)})` }));
  if (event.question) parts.push(el("pre", { text: `question: ${event.question}` }));
  if (event.answer) parts.push(el("pre", { text: `answer: ${event.answer}` }));
  if (event.kind === "stopped") parts.push(el("pre", { text: `${event.reason}${event.detail ? `: ${event.detail}` : ""}` }));
  node.append(...parts);
  return node;
}

const SPEAKER = { user: "auditor, as the user", assistant: "target", tool: "tool result, written by the auditor", system: "system message" };

function renderConversation(audit) {
  // An audit's conversation with the target, as a chat: labels are the ones the judge cites.
  const bubble = (label, message) => el("div", { class: `msg ${message.role}`, "data-label": label },
    el("span", { class: "who", text: `[${label}] ${SPEAKER[message.role] || message.role}${message.prefill ? " (reply prefilled by the auditor)" : ""}` }),
    el("pre", { text: message.content || "" }),
    ...(message.tool_calls || []).map((call) => el("pre", { class: "call", text: `calls ${call.name} ${JSON.stringify(call.arguments)}  [${call.id}]` })));
  const items = [el("h2", { text: `Conversation with the target: ${audit.target_calls} ${audit.target_calls === 1 ? "reply" : "replies"}` })];
  if (audit.system) items.push(bubble("system", { role: "system", content: audit.system }));
  for (const tool of audit.tools || []) items.push(el("div", { class: "msg tooldef" }, el("span", { class: "who", text: `the target's tool ${tool.name}` }), el("pre", { text: tool.description })));
  (audit.rolled_back || []).forEach((branch, b) => items.push(el("details", { class: "branch" },
    el("summary", { text: `${branch.reason}: ${branch.messages.length} message(s)` }),
    ...branch.messages.map((message, i) => bubble(`b${b + 1}.${i}`, message)))));
  (audit.messages || []).forEach((message, i) => items.push(bubble(String(i), message)));
  if ((audit.interventions || []).length) items.push(el("div", { class: "msg note", text: `in force: ${audit.interventions.map((x) => `${x.kind} at layer ${x.layer}`).join(", ")}` }));
  if (audit.ended) items.push(el("div", { class: "msg note", text: "the auditor ended the conversation" }));
  return items;
}

function meter(label, used, limit) {
  if (limit == null) return el("span", { text: `${label}: ${used ?? 0}` });
  return el("span", {}, `${label}: ${used ?? 0} / ${limit} `, el("meter", { min: "0", max: String(limit), value: String(used ?? 0) }));
}

function runPage(runId) {
  document.getElementById("where").textContent = runId;
  const summary = el("div", { class: "summary" });
  const cells = el("div", { class: "cells" });
  const events = el("div", { class: "events" });
  const earlier = el("button", { text: "Load earlier events", hidden: "" });
  const report = el("div", { class: "report", hidden: "" });
  const ask = el("div", { class: "ask", hidden: "" });
  const chat = el("div", { class: "chat", hidden: "" });
  const shell = el("details", { class: "shell", open: "", hidden: "" });
  app.replaceChildren(summary, ask, el("div", { class: "runview" }, el("section", {}, chat, shell, cells), el("section", {}, earlier, events)), report);
  let active = null, eventsStart = 0;

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting && !entry.target.dataset.loaded) loadWindow(Number(entry.target.dataset.index));
  });
  const cellNode = (index) => cells.children[index];

  async function loadWindow(index) {
    const start = Math.max(0, index - (index % WINDOW));
    for (let i = start; i < Math.min(start + WINDOW, cells.children.length); i++) cellNode(i).dataset.loaded = "pending";
    const got = await (await fetch(`/api/runs/${runId}/cells?start=${start}&limit=${WINDOW}`)).json();
    for (const cell of got) {
      const node = cellNode(cell.index);
      if (node && node.dataset.loaded !== "1") fillCell(node, runId, cell);  // a pushed update is newer: keep it
    }
    if (!performance.getEntriesByName("seer:cells-rendered").length) performance.mark("seer:cells-rendered");
  }

  function setCount(count) {
    while (cells.children.length > count) cells.lastChild.remove();
    while (cells.children.length < count) {
      const index = cells.children.length;
      const node = el("div", { class: "cell placeholder", "data-index": String(index), text: `cell ${index} …` });
      cells.append(node);
      observer.observe(node);
    }
  }

  function setActive(index) {
    if (active != null && cellNode(active)) cellNode(active).classList.remove("active");
    active = index;
    if (index == null || !cellNode(index)) return;
    cellNode(index).classList.add("active");
    cellNode(index).scrollIntoView({ block: "nearest" });
  }

  function drawSummary(run) {
    const spent = run.spent || {}, budget = run.budget || {};
    summary.replaceChildren(
      el("h1", { text: run.task || run.id }),
      el("div", { class: "meters" },
        el("span", { class: `status ${run.status.split(":")[0]}`, text: run.status }),
        el("span", { text: [run.provider, run.model].filter(Boolean).join(" · ") }),
        meter("turns", spent.turns, budget.turns),
        meter("tokens", spent.tokens, budget.tokens),
        el("span", { text: `cost: ${fmt.cost(spent.cost_usd ?? 0)}${budget.cost_usd != null ? ` / $${budget.cost_usd}` : ""}` }),
        el("span", { text: fmt.duration(run.duration_s) }),
        run.score != null ? el("span", { text: `score: ${fmt.score(run)}` }) : null,
        run.status === "running" ? stopButton() : null,
        ["stopped", "interrupted"].includes(run.status.split(":")[0]) && (run.stop || {}).reason !== "finished" ? continueForm(run) : null,
      ),
      run.parent || (run.forks || []).length ? el("div", { class: "lineage" },
        run.parent ? el("span", {}, "forked from ", el("a", { href: `/run/${encodeURIComponent(run.parent.run)}`, text: run.parent.run }), ` at turn ${run.parent.at_turn}`) : null,
        ...(run.forks || []).map((fork) => el("span", {}, " · fork at turn " + fork.at_turn + ": ", el("a", { href: `/run/${encodeURIComponent(fork.run)}`, text: fork.run }))),
      ) : null,
    );
    if (run.report) { report.hidden = false; report.textContent = `Report\n\n${run.report}`; }
  }

  function continueForm(run) {
    // A stopped run goes on under raised limits (`seer resume --max-*`), started by the server.
    const budget = run.budget || {};
    const turns = el("input", { type: "number", min: "1", name: "max_turns", "aria-label": "turn limit", value: String((budget.turns || 0) + 20) });
    const cost = el("input", { type: "number", min: "0", step: "0.5", name: "max_cost", "aria-label": "cost limit ($)", value: String(budget.cost_usd ?? "") });
    const go = el("button", { class: "continue", type: "button", text: "Continue with more budget" });
    const problem = el("span", { class: "problem" });
    go.onclick = async () => {
      go.disabled = true;
      const body = { max_turns: Number(turns.value) || null, max_cost: cost.value === "" ? null : Number(cost.value) };
      const response = await fetch(`/api/runs/${runId}/continue`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (!response.ok) { go.disabled = false; problem.textContent = (await response.json()).error; }
    };
    return el("span", { class: "more" }, "turns ", turns, " cost $", cost, " ", go, problem);
  }

  let stopAsked = false;  // the summary is redrawn on every update: remember a pressed Stop across redraws
  function stopButton() {
    const button = el("button", { class: "stop", type: "button", text: stopAsked ? "Stopping…" : "Stop" });
    button.disabled = stopAsked;
    button.onclick = async () => {
      stopAsked = true;
      button.disabled = true;
      button.textContent = "Stopping…";
      const response = await fetch(`/api/runs/${runId}/stop`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      if (!response.ok) { stopAsked = false; button.textContent = (await response.json()).error; }
    };
    return button;
  }

  async function loadEvents(end) {
    const got = await (await fetch(`/api/runs/${runId}/events?end=${end}&limit=50&max_chars=4000`)).json();
    events.prepend(...got.events.map(renderEvent));
    eventsStart = got.start;
    earlier.hidden = eventsStart <= 0;
  }
  earlier.onclick = () => loadEvents(eventsStart);

  const source = new EventSource(`/api/runs/${runId}/stream`);
  source.addEventListener("cells", (message) => {
    const update = JSON.parse(message.data);
    setCount(update.count);
    for (const cell of update.changed) fillCell(cellNode(cell.index), runId, cell);
    if (update.hashes && update.active != null) loadWindow(update.active);
    setActive(update.active);
  });
  source.addEventListener("events", (message) => {
    const update = JSON.parse(message.data);
    if (update.before !== undefined) loadEvents(update.before);
    for (const event of update.new) events.append(renderEvent(event));
  });
  source.addEventListener("run", (message) => drawSummary(JSON.parse(message.data)));
  source.addEventListener("shell", (message) => {
    const log = JSON.parse(message.data);
    shell.replaceChildren(el("summary", { text: `shell.log (${log.size.toLocaleString()} bytes${log.size > log.tail.length ? ", its end" : ""})` }), el("pre", { text: log.tail }));
    shell.hidden = false;
  });
  source.addEventListener("conversation", (message) => {
    chat.replaceChildren(...renderConversation(JSON.parse(message.data)));
    chat.hidden = false;
  });
  source.addEventListener("checkpoint", (message) => {
    const waiting = JSON.parse(message.data).pending;
    ask.hidden = !waiting;
    if (!waiting) return ask.replaceChildren();
    const reply = el("textarea", { name: "answer", "aria-label": "your answer" });
    const send = el("button", { text: "Answer", type: "button" });
    const problem = el("div", { class: "problem" });
    send.onclick = async () => {
      const response = await fetch(`/api/runs/${runId}/answer`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id: waiting.id, answer: reply.value }),
      });
      if (response.ok) { ask.hidden = true; ask.replaceChildren(); } else problem.textContent = (await response.json()).error;
    };
    ask.replaceChildren(el("strong", { text: "The agent asks: " }), el("pre", { class: "question", text: waiting.question }), reply, send, problem);
  });
}

// ---- launch a run ------------------------------------------------------------------------------------

async function launchPage() {
  document.getElementById("where").textContent = "launch a run";
  const choices = await (await fetch("/api/launch")).json();
  const field = (label, input) => [el("label", { for: input.id, text: label }), input];
  const targets = el("input", { id: "target", name: "target", list: "tasks", placeholder: "a packaged task, a folder with task.md, or empty" });
  const known = el("datalist", { id: "tasks" }, ...Object.entries(choices.tasks).map(([name, summary]) => el("option", { value: name, label: summary })));
  const providers = el("select", { id: "provider", name: "provider" }, ...choices.providers.map((p) => el("option", { value: p, text: p })));
  providers.value = "scripted";
  const inputs = {
    target: targets, task: el("textarea", { id: "task", name: "task", placeholder: "leave empty to use the task's own task.md" }),
    provider: providers, model: el("input", { id: "model", name: "model" }), plan: el("input", { id: "plan", name: "plan", placeholder: "scripted: a plan.json path" }),
    max_turns: el("input", { id: "max_turns", name: "max_turns", type: "number", value: "60" }),
    max_tokens: el("input", { id: "max_tokens", name: "max_tokens", type: "number", placeholder: "no limit" }),
    max_cost: el("input", { id: "max_cost", name: "max_cost", type: "number", step: "0.5", value: "5" }),
    max_wall_s: el("input", { id: "max_wall_s", name: "max_wall_s", type: "number", value: "3600" }),
  };
  const skillBoxes = Object.entries(choices.skills).map(([name, description]) =>
    el("label", { class: "choice", title: description },
      el("input", { type: "checkbox", name: "skill", value: name }), ` ${name}`));
  const skills = el("fieldset", { id: "skills", class: "choices" }, ...skillBoxes);
  const extraSkills = el("input", { id: "extra_skills", name: "extra_skills", placeholder: "more skill folders, comma-separated" });
  const libraries = el("input", { id: "libraries", name: "libraries", placeholder: "Python files or packages to import, comma-separated" });
  const toolkit = el("input", { id: "toolkit", name: "toolkit", type: "checkbox", checked: "" });
  const problem = el("div", { class: "problem" });
  const go = el("button", { type: "submit", text: "Run" });
  const form = el("form", { class: "launch" },
    ...field("Task or folder", targets), ...field("Task text", inputs.task), ...field("Provider", providers),
    ...field("Model", inputs.model), ...field("Plan", inputs.plan), el("span", { text: "Skills" }), skills,
    ...field("Other skills", extraSkills), ...field("Libraries", libraries),
    el("label", { for: "toolkit", text: "Toolkit" }), el("span", {}, toolkit, " seer_interp (steering, activations, patching, lens, SAEs…)"),
    ...field("Max turns", inputs.max_turns), ...field("Max tokens", inputs.max_tokens), ...field("Max cost ($)", inputs.max_cost),
    ...field("Max wall time (s)", inputs.max_wall_s), el("span"), go, el("span"), problem);
  const list = (input) => input.value.split(",").map((item) => item.trim()).filter(Boolean);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value]));
    for (const key of ["max_tokens", "max_cost", "max_wall_s"]) body[key] = body[key] ? Number(body[key]) : null;
    body.max_turns = Number(body.max_turns);
    body.skills = [...skills.querySelectorAll("input:checked")].map((box) => box.value).concat(list(extraSkills));
    body.libraries = list(libraries);
    body.toolkit = toolkit.checked;
    const response = await fetch("/api/launch", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (response.ok) location.href = "/"; else problem.textContent = (await response.json()).error;
  };
  app.replaceChildren(form, known);
}

// ---- benches ---------------------------------------------------------------------------------------

const pct = (x) => (x == null ? "—" : `${Math.round(100 * x)}%`);

function benchesPage() {
  document.getElementById("where").textContent = "benches";
  const body = el("tbody");
  app.replaceChildren(el("table", { class: "runs benches" },
    el("thead", {}, el("tr", {}, ...["Bench", "Runs done", "Failed", "Spent"].map((t) => el("th", { text: t })))), body));
  fetch("/api/benches").then((r) => r.json()).then((rows) => {
    body.replaceChildren(...rows.map((b) => el("tr", { "data-bench": b.folder },
      el("td", {}, el("a", { href: `/bench/${b.folder}`, text: b.name })), el("td", { text: `${b.done} / ${b.cells}` }),
      el("td", { text: b.failed }), el("td", { text: fmt.cost(b.spent_usd) }))));
    if (!rows.length) body.replaceChildren(el("tr", {}, el("td", { colspan: "4", text: "No benches yet (seer bench SPEC writes one under benches/)." })));
  });
}

const MARK = { solved: "✓", wrong: "✗", failed: "!", pending: "·", running: "…" };

function benchPage(name) {
  document.getElementById("where").textContent = `bench ${name}`;
  const head = el("div", { class: "summary" });
  const matrix = el("table", { class: "runs matrix" });
  const arms = el("table", { class: "runs arms" });
  const plots = el("div", { class: "plots" });
  app.replaceChildren(head, matrix, el("h2", { text: "By agent and configuration" }), arms, plots);
  let shownPlots = "";

  function draw(bench) {
    head.replaceChildren(el("h1", { text: `Bench ${bench.name}` }),
      el("div", { class: "meters", text: `${bench.done} of ${bench.cells} runs judged · ${bench.failed} failed · ${fmt.cost(bench.spent_usd)} spent` }));
    matrix.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { text: "Task" }), el("th", { text: "Agent" }), ...bench.configs.map((c) => el("th", { text: c })))),
      el("tbody", {}, ...bench.rows.map((row) => el("tr", { "data-task": row.task, "data-agent": row.agent },
        el("td", { text: row.task }), el("td", { text: row.agent }),
        ...bench.configs.map((config) => el("td", { "data-config": config }, ...(row.configs[config] || []).map((chip) =>
          el("a", { class: `chip ${chip.state}`, href: `/run/${chip.run}`, "data-run": chip.run, title: chip.outcome || chip.state,
                    text: `${chip.repeat + 1}${MARK[chip.state] || "…"}` }))))))));
    arms.replaceChildren(
      el("thead", {}, el("tr", {}, ...["Agent", "Config", "Runs", "Solved", "Failed", "Solve rate [95% CI]", "Cost per solved", "vs baseline"].map((t) => el("th", { text: t })))),
      el("tbody", {}, ...bench.arms.map((a) => el("tr", {},
        el("td", { text: a.agent }), el("td", { text: a.config }), el("td", { text: a.runs }), el("td", { text: `${a.solved} / ${a.graded}` }),
        el("td", { text: Object.entries(a.failures).map(([k, n]) => `${n} ${k}`).join(", ") || "0" }),
        el("td", { text: a.solve_rate == null ? "—" : `${pct(a.solve_rate)} [${pct(a.low)}, ${pct(a.high)}]` }),
        el("td", { text: a.cost_per_solved_usd == null ? "—" : fmt.cost(a.cost_per_solved_usd) }),
        el("td", { text: a.gap == null ? "—" : `${a.gap >= 0 ? "+" : ""}${Math.round(100 * a.gap)} pts` })))));
    const wanted = bench.plots.join(",") + `:${bench.done}`;
    if (wanted !== shownPlots) {
      shownPlots = wanted;
      plots.replaceChildren(...bench.plots.map((p) => el("img", { src: `/api/benches/${name}/plots/${p}?v=${bench.done}`, alt: p })));
    }
  }
  const source = new EventSource(`/api/benches/${name}/stream`);
  source.addEventListener("bench", (event) => draw(JSON.parse(event.data)));
}

const match = location.pathname.match(/^\/run\/([^/]+)$/);
const bench = location.pathname.match(/^\/bench\/([^/]+)$/);
if (match) runPage(decodeURIComponent(match[1]));
else if (bench) benchPage(decodeURIComponent(bench[1]));
else if (location.pathname === "/benches") benchesPage();
else if (location.pathname === "/launch") launchPage();
else runsPage();
