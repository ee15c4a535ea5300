// git kitty dashboard: renders the document pushed over /api/events.
//
// Safety by construction: every piece of data becomes a DOM text node (textContent) or a
// numeric attribute. No data string is ever parsed as HTML (no HTML parsing API is used), links are kept only
// for http(s) and mailto URLs, and the server's Content-Security-Policy allows no inline
// script at all.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  const COLUMNS = [
    { key: "planned", name: "Planned", lanes: ["planned"] },
    { key: "doing", name: "Doing", lanes: ["claimed", "in_progress"] },
    { key: "review", name: "For Review", lanes: ["for_review", "in_review"] },
    { key: "approved", name: "Approved", lanes: ["approved"] },
    { key: "done", name: "Done", lanes: ["done"] },
  ];
  const OFF_BOARD = [
    { key: "blocked", name: "Blocked", lanes: ["blocked"] },
    { key: "canceled", name: "Canceled", lanes: ["canceled"] },
  ];
  const LANE_NAMES = {
    planned: "planned", claimed: "claimed", in_progress: "in progress",
    for_review: "for review", in_review: "in review", approved: "approved",
    done: "done", blocked: "blocked", canceled: "canceled",
  };

  // What tests and people can inspect: the version shown and when each update was applied.
  const kitty = (window.kitty = { version: 0, updates: [] });

  let doc = null;
  let receivedAt = 0;
  let previousLanes = new Map();
  let moved = new Set();

  // ---- DOM helpers: text only ------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.setAttribute("class", String(v));
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, String(v));
    }
  }

  function append(node, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // ---- time ---------------------------------------------------------------------------------

  // The server's clock now (the document says when it was made).
  function serverNow() {
    const made = Date.parse(doc && doc.generated_at);
    return Number.isNaN(made) ? Date.now() : made + (Date.now() - receivedAt);
  }

  function ago(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return "";
    const s = Math.max(0, Math.round((serverNow() - t) / 1000));
    if (s < 45) return "just now";
    const m = Math.round(s / 60);
    if (m < 60) return m + " min ago";
    const h = Math.round(m / 60);
    if (h < 36) return h + " h ago";
    return Math.round(h / 24) + " d ago";
  }

  // ---- the board ------------------------------------------------------------------------------

  function render() {
    if (!doc) return;
    document.getElementById("repo").textContent = doc.repository || "";
    const updated = document.getElementById("updated");
    updated.textContent = "updated " + new Date(receivedAt).toLocaleTimeString();
    const main = clear(document.getElementById("features"));
    const board = doc.board;
    if (board.features.length === 0) {
      main.append(el("p", { class: "empty" },
        "No features yet: work packages go in kitty-specs/<feature>/tasks/WP01-name.md"));
    }
    board.features.forEach((f, i) => main.append(feature(f, (doc.features || [])[i] || {})));
    const general = board.problems.filter((p) => !p.feature);
    if (general.length) main.append(problems(general));
    renderAgents();
    renderActivity();
    document.body.dataset.version = String(doc.version);
  }

  function feature(f, extras) {
    const p = f.progress;
    const section = el("section", { class: "feature", "data-feature": f.slug },
      el("header", { class: "feature-head" },
        el("h2", {}, f.slug),
        el("span", { class: "progress-text" },
          `${p.done}/${p.total} done (${p.percent}%) · ${p.weighted_percent}% weighted`),
        el("progress", { max: 100, value: p.weighted_percent }),
        remote(f.remote)));
    if (f.work_packages.length === 0) {
      section.append(el("p", { class: "empty" }, "No work packages yet."));
      return section;
    }
    const byLane = (lanes) => f.work_packages.filter((w) => lanes.includes(w.lane));
    const columns = el("div", { class: "columns" });
    for (const c of COLUMNS) {
      const cards = byLane(c.lanes);
      columns.append(el("div", { class: "column", "data-column": c.key },
        el("h3", {}, c.name, " ", el("span", { class: "count" }, String(cards.length))),
        cards.map((w) => card(f, w, extras))));
    }
    section.append(columns);
    const off = OFF_BOARD.map((c) => [c, byLane(c.lanes)]).filter(([, cards]) => cards.length);
    if (off.length) {
      section.append(el("div", { class: "off-board" }, off.map(([c, cards]) =>
        el("div", { class: "column", "data-column": c.key },
          el("h3", {}, c.name, " ", el("span", { class: "count" }, String(cards.length))),
          cards.map((w) => card(f, w, extras))))));
    }
    section.append(el("div", { class: "lists" }, readyList(f), waitingList(f)));
    if (extras.graph) section.append(graph(f, extras.graph));
    const own = doc.board.problems.filter((x) => x.feature === f.slug);
    if (own.length) section.append(problems(own));
    return section;
  }

  function remote(r) {
    if (!r) return null;
    const parts = [];
    if (r.ahead + r.local_only) parts.push(`${r.ahead + r.local_only} ahead`);
    if (r.behind + r.remote_only) parts.push(`${r.behind + r.remote_only} behind`);
    if (r.diverged) parts.push(`${r.diverged} diverged`);
    if (!parts.length) return el("span", { class: "remote in-sync" }, `in sync with ${r.name}`);
    return el("span", { class: "remote out-of-sync" },
      `state vs ${r.name}: ${parts.join(", ")} (git kitty sync)`);
  }

  function card(f, w, extras) {
    const key = f.slug + "/" + w.id;
    const state = w.state || {};
    const tags = [];
    if (w.lane === "claimed") tags.push(["claimed", "claimed"]);
    if (w.lane === "in_review") tags.push(["in review", "review"]);
    if (w.ready) tags.push(["ready", "ready"]);
    if (state.review_status === "has_feedback") tags.push(["changes requested", "feedback"]);
    if (state.review_status === "approved" && w.lane !== "done") tags.push(["review approved", "ok"]);
    if (w.stale && w.stale.length) tags.push(["stale", "warn"]);
    if (w.worktree_missing) tags.push(["no worktree", "warn"]);
    if (w.worktree_elsewhere) tags.push(["on another machine", "sync"]);
    if (w.lost_claim) tags.push([`${w.lost_claim.agent}'s claim lost here`, "bad"]);
    if (w.has_errors) tags.push(["file has errors", "bad"]);
    if (w.sync && w.sync !== "in_sync") tags.push([w.sync.replace("_", " "), "sync"]);
    const who = (w.lane === "in_review" || w.lane === "approved") ? (w.reviewer || w.agent) : w.agent;
    const meta = [];
    if (who) meta.push(el("span", { class: "who" }, who));
    if (w.updated_at) meta.push(el("span", { class: "age" }, ago(w.updated_at)));
    if (w.subtasks) meta.push(el("span", { class: "subtasks" }, `${w.subtasks} subtask${w.subtasks === 1 ? "" : "s"}`));
    if (w.lane === "planned" && w.waiting_on.length) {
      meta.push(el("span", { class: "waits" }, "waits on " + w.waiting_on.join(", ")));
    }
    const feedback = (extras.feedback || {})[w.id];
    const node = el("article", {
      class: "card lane-" + w.lane + (moved.has(key) ? " moved" : ""),
      "data-wp": w.id, "data-lane": w.lane, tabindex: 0, role: "button",
      title: `${w.id} ${w.title} (${LANE_NAMES[w.lane] || w.lane})`,
      onclick: () => openDetail(f.slug, w.id),
      onkeydown: (e) => { if (e.key === "Enter") openDetail(f.slug, w.id); },
    },
      el("div", { class: "card-title" }, el("strong", {}, w.id), " ", el("span", { class: "title" }, w.title)),
      tags.length ? el("div", { class: "tags" }, tags.map(([t, k]) => el("span", { class: "tag tag-" + k }, t))) : null,
      meta.length ? el("div", { class: "meta" }, meta) : null,
      feedback ? el("blockquote", { class: "feedback" }, feedback.note,
        el("span", { class: "by" }, " — " + feedback.actor)) : null);
    return node;
  }

  function title(f, id) {
    const w = f.work_packages.find((x) => x.id === id);
    return w ? w.title : "";
  }

  function readyList(f) {
    const box = el("div", { class: "list ready" }, el("h3", {}, "Ready to start"));
    if (!f.ready.length) box.append(el("p", { class: "muted" }, "nothing ready"));
    else box.append(el("ul", {}, f.ready.map((id) => {
      const w = f.work_packages.find((x) => x.id === id) || {};
      return el("li", { "data-wp": id }, el("strong", {}, id), " ", title(f, id),
        w.unblocks ? el("span", { class: "muted" }, ` unblocks ${w.unblocks}`) : null);
    })));
    return box;
  }

  function waitingList(f) {
    const box = el("div", { class: "list waiting" }, el("h3", {}, "Waiting"));
    if (!f.waiting.length) box.append(el("p", { class: "muted" }, "nothing waiting"));
    else box.append(el("ul", {}, f.waiting.map((wait) =>
      el("li", { "data-wp": wait.id }, el("strong", {}, wait.id), " ", title(f, wait.id), " on ",
        wait.waiting_on.map((d, i) => [i ? ", " : "", d.id, " ",
          el("span", { class: "lane-name lane-" + (d.lane || "missing") },
            d.lane ? LANE_NAMES[d.lane] : "not in the plan")])))));
    return box;
  }

  function problems(list) {
    return el("div", { class: "problems" },
      el("h3", {}, `${list.length} problem${list.length === 1 ? "" : "s"} in the plan (git kitty check explains each)`),
      el("ul", {}, list.map((p) => el("li", { class: "problem-" + p.severity },
        p.file ? el("code", {}, p.file + (p.line ? ":" + p.line : "")) : null, " ",
        `${p.severity}[${p.code}]: `, p.message))));
  }

  // ---- the dependency graph -------------------------------------------------------------------

  function graph(f, g) {
    const NODE_W = 150, NODE_H = 34, GAP_X = 60, GAP_Y = 14, PAD = 10;
    const byLevel = new Map();
    for (const w of f.work_packages) {
      const level = g.levels[w.id] || 0;
      if (!byLevel.has(level)) byLevel.set(level, []);
      byLevel.get(level).push(w);
    }
    const pos = new Map();
    let height = 0, width = 0;
    for (const [level, wps] of byLevel) {
      wps.forEach((w, i) => {
        const x = PAD + level * (NODE_W + GAP_X), y = PAD + i * (NODE_H + GAP_Y);
        pos.set(w.id, { x, y });
        width = Math.max(width, x + NODE_W + PAD);
        height = Math.max(height, y + NODE_H + PAD);
      });
    }
    const critical = g.critical_path || [];
    const onPath = new Set(critical);
    const criticalEdge = new Set(critical.slice(1).map((id, i) => critical[i] + ">" + id));
    const picture = svg("svg", {
      class: "graph", id: "graph-" + f.slug, width, height,
      viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `dependency graph of ${f.slug}`,
    });
    for (const [from, to] of g.edges) {
      const a = pos.get(from), b = pos.get(to);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      picture.append(svg("path", {
        class: "edge" + (criticalEdge.has(from + ">" + to) ? " critical" : ""),
        "data-from": from, "data-to": to,
        d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      }));
    }
    for (const w of f.work_packages) {
      const p = pos.get(w.id);
      const label = w.title.length > 16 ? w.title.slice(0, 15) + "…" : w.title;
      picture.append(svg("g", {
        class: "node lane-" + w.lane + (onPath.has(w.id) ? " critical" : ""),
        "data-wp": w.id, transform: `translate(${p.x},${p.y})`, tabindex: 0,
        onclick: () => openDetail(f.slug, w.id),
      },
        svg("title", {}, `${w.id} ${w.title} (${LANE_NAMES[w.lane] || w.lane})`),
        svg("rect", { width: NODE_W, height: NODE_H, rx: 6 }),
        svg("text", { x: 8, y: 22 }, svg("tspan", { class: "node-id" }, w.id), " " + label)));
    }
    const legend = critical.length
      ? [`Critical path (${critical.length} WP${critical.length === 1 ? "" : "s"} left): `,
        el("strong", {}, critical.join(" → "))]
      : ["Nothing left on any path."];
    return el("figure", { class: "graph-box" }, el("div", { class: "graph-scroll" }, picture),
      el("figcaption", {}, legend));
  }

  // ---- agents and activity ---------------------------------------------------------------------

  function renderAgents() {
    const list = clear(document.getElementById("agents"));
    if (!doc.agents.length) list.append(el("li", { class: "muted" }, "nobody holds a work package"));
    for (const a of doc.agents) {
      list.append(el("li", { "data-agent": a.name },
        el("strong", {}, a.name),
        a.last_event_at ? el("span", { class: "muted" }, " · " + ago(a.last_event_at)) : null,
        el("ul", {}, a.work_packages.map((h) => el("li", {},
          el("a", { href: `#wp/${h.feature}/${h.wp}` }, `${h.feature}/${h.wp}`),
          " ", el("span", { class: "lane-name lane-" + h.lane }, LANE_NAMES[h.lane] || h.lane))))));
    }
  }

  function describe(e) {
    switch (e.kind) {
      case "lane": return `${LANE_NAMES[e.from] || e.from} → ${LANE_NAMES[e.to] || e.to}`;
      case "implement": return `implement ${e.branch || ""} (${LANE_NAMES[e.to] || e.to})`;
      case "note": return "note";
      case "restack": return "restacked";
      case "release": return e.to ? `released → ${LANE_NAMES[e.to] || e.to}` : "worktree released";
      case "merge": return e.rejected && e.rejected.length
        ? `merged histories, rejected ${e.rejected.length}` : "merged histories";
      default: return e.kind;
    }
  }

  function event(e, withWp) {
    return el("li", { class: "event" + (e.refused ? " refused" : "") },
      el("span", { class: "muted" }, ago(e.at)), " ",
      withWp ? el("a", { href: `#wp/${e.feature}/${e.wp}` }, `${e.feature}/${e.wp}`) : null, withWp ? " " : null,
      el("strong", {}, e.actor), " ", describe(e),
      e.forced ? el("span", { class: "tag tag-warn" }, "forced: " + (e.reason || "no reason given")) : null,
      e.refused ? el("span", { class: "tag tag-bad" }, "rejected when histories were merged") : null,
      e.note ? el("div", { class: "note" }, e.note) : null);
  }

  function renderActivity() {
    const list = clear(document.getElementById("activity"));
    if (!doc.activity.length) {
      list.append(el("li", { class: "muted" }, "no events yet: they appear once a WP is claimed, moved or noted"));
    }
    for (const e of doc.activity) list.append(event(e, true));
  }

  // ---- one work package -----------------------------------------------------------------------

  let detailWanted = null;

  function openDetail(feature, wp) {
    location.hash = `#wp/${feature}/${wp}`;
  }

  function fromHash() {
    const m = /^#wp\/([A-Za-z0-9._-]+)\/(WP[0-9]+)$/.exec(location.hash);
    const box = document.getElementById("detail");
    if (!m) {
      detailWanted = null;
      box.hidden = true;
      return;
    }
    detailWanted = [m[1], m[2]];
    box.hidden = false;
    loadDetail();
  }

  async function loadDetail() {
    if (!detailWanted) return;
    const [feature, wp] = detailWanted;
    const body = document.getElementById("detail-body");
    let d;
    try {
      const r = await fetch(`/api/wp/${encodeURIComponent(feature)}/${encodeURIComponent(wp)}`);
      if (!r.ok) throw new Error(await r.text());
      d = await r.json();
    } catch (err) {
      clear(body).append(el("p", { class: "problem-error" }, `${feature}/${wp}: ${err.message}`));
      return;
    }
    if (!detailWanted || detailWanted[0] !== feature || detailWanted[1] !== wp) return;
    clear(body);
    const s = d.state || {};
    const view = findView(feature, wp) || {};
    const lane = view.lane || s.lane;
    const facts = [
      ["Lane", lane ? el("span", { class: "lane-name lane-" + lane }, LANE_NAMES[lane] || lane) : "—"],
      ["Agent", s.agent || view.agent || "—"],
      ["Reviewer", s.reviewer || view.reviewer || "—"],
      ["Review", s.review_status ? s.review_status.replace("_", " ") : "—"],
      ["Branch", s.branch ? el("code", {}, s.branch) : "—"],
      ["Worktree", d.worktree_path ? el("code", {}, d.worktree_path) : "—"],
      ["Base", s.base ? el("code", {}, `${s.base.kind} ${String(s.base.commit).slice(0, 10)}`) : "—"],
      ["File", el("code", {}, d.file)],
    ];
    body.append(
      el("p", { class: "muted" }, feature),
      el("h2", { id: "detail-title" }, el("strong", {}, d.id), " ", d.title),
      el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
      el("h3", {}, "Prompt"),
      el("div", { class: "prompt" }, markdown(d.prompt)),
      el("h3", {}, "History"),
      d.history.length ? el("ol", { class: "activity" }, d.history.map((e) => event(e, false)))
        : el("p", { class: "muted" }, "no events yet"));
  }

  function findView(feature, wp) {
    const f = doc && doc.board.features.find((x) => x.slug === feature);
    return f && f.work_packages.find((w) => w.id === wp);
  }

  // ---- markdown, as DOM nodes -----------------------------------------------------------------

  function markdown(text) {
    const out = [];
    const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    const para = [];
    const flush = () => {
      if (para.length) out.push(el("p", {}, inline(para.join(" "))));
      para.length = 0;
    };
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if ((m = /^\s*(```|~~~)/.exec(line))) {
        flush();
        const fence = m[1], code = [];
        i++;
        while (i < lines.length && !lines[i].trim().startsWith(fence)) code.push(lines[i++]);
        i++;
        out.push(el("pre", {}, el("code", {}, code.join("\n"))));
        continue;
      }
      if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        flush();
        out.push(el("h" + Math.min(6, m[1].length + 2), {}, inline(m[2])));
      } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
        flush();
        out.push(el("hr", {}));
      } else if (/^\s*[-*+]\s+/.test(line) || /^\s*\d+[.)]\s+/.test(line)) {
        flush();
        const ordered = /^\s*\d+[.)]\s+/.test(line);
        const items = [];
        while (i < lines.length && (ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/).test(lines[i])) {
          let item = lines[i].replace(/^\s*(?:[-*+]|\d+[.)])\s+/, "");
          item = item.replace(/^\[ \]\s*/, "☐ ").replace(/^\[[xX]\]\s*/, "☑ ");
          items.push(el("li", {}, inline(item)));
          i++;
        }
        out.push(el(ordered ? "ol" : "ul", {}, items));
        continue;
      } else if (/^\s*>/.test(line)) {
        flush();
        const quote = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) quote.push(lines[i++].replace(/^\s*>\s?/, ""));
        out.push(el("blockquote", {}, markdown(quote.join("\n"))));
        continue;
      } else if (/^\s*\|.*\|\s*$/.test(line)) {
        flush();
        const rows = [];
        while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++]);
        out.push(table(rows));
        continue;
      } else if (line.trim() === "") {
        flush();
      } else {
        para.push(line.trim());
      }
      i++;
    }
    flush();
    return out;
  }

  function table(rows) {
    const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
    const isRule = (row) => /^[\s|:-]+$/.test(row);
    const head = rows.length > 1 && isRule(rows[1]) ? cells(rows[0]) : null;
    const body = (head ? rows.slice(2) : rows).filter((r) => !isRule(r));
    return el("table", {},
      head ? el("thead", {}, el("tr", {}, head.map((c) => el("th", {}, inline(c))))) : null,
      el("tbody", {}, body.map((r) => el("tr", {}, cells(r).map((c) => el("td", {}, inline(c)))))));
  }

  // `code`, **strong**, *em* / _em_, [text](link) for http(s) and mailto links: all else is text.
  function inline(text) {
    const out = [];
    const re = /`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|\b_([^_]+)_\b|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(el("code", {}, m[1]));
      else if (m[2] !== undefined || m[3] !== undefined) out.push(el("strong", {}, inline(m[2] || m[3])));
      else if (m[4] !== undefined || m[5] !== undefined) out.push(el("em", {}, inline(m[4] || m[5])));
      else if (/^(https?:|mailto:)/i.test(m[7])) {
        out.push(el("a", { href: m[7], rel: "noopener noreferrer", target: "_blank" }, m[6]));
      } else out.push(m[6]);
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  // ---- live updates ----------------------------------------------------------------------------

  function setLive(state, text) {
    const live = document.getElementById("live");
    live.dataset.state = state;
    live.textContent = text;
  }

  function apply(next) {
    const lanes = new Map();
    for (const f of next.board.features) {
      for (const w of f.work_packages) lanes.set(f.slug + "/" + w.id, w.lane + "|" + (w.agent || ""));
    }
    if (doc) moved = new Set([...lanes].filter(([k, v]) => previousLanes.get(k) !== v).map(([k]) => k));
    previousLanes = lanes;
    doc = next;
    receivedAt = Date.now();
    render();
    kitty.version = next.version;
    kitty.updates.push({ version: next.version, at: Date.now() });
    if (kitty.updates.length > 1000) kitty.updates.shift();
    if (detailWanted) loadDetail();
  }

  function connect() {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => setLive("live", "live"));
    source.addEventListener("board", (e) => {
      setLive("live", "live");
      apply(JSON.parse(e.data));
    });
    source.addEventListener("error", () => setLive("down", "disconnected, retrying…"));
  }

  document.getElementById("detail-close").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    fromHash();
  });
  document.getElementById("detail").addEventListener("click", (e) => {
    if (e.target.id === "detail") document.getElementById("detail-close").click();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && detailWanted) document.getElementById("detail-close").click();
  });
  window.addEventListener("hashchange", fromHash);
  // Ages move on even when nothing else does.
  setInterval(render, 30000);
  connect();
  fromHash();
})();
