// The page of `drvsim serve`: the live machine (its device tree, its
// trace and the shell's controls), the demos step by step, and time
// travel through a scenario's schedule. Plain JavaScript, no build step;
// every string from the server goes into the page as text, never as HTML.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  // h builds an element: h("button", {class: "go", onclick: f}, "text", child...).
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else if (k in e && k !== "list") e[k] = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) {
      if (kid === undefined || kid === null || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  // api calls the server: {status, data}; a network failure is status 0.
  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      return { status: 0, data: { error: "the server does not answer: " + e.message } };
    }
    let data;
    try {
      data = await r.json();
    } catch (e) {
      data = { error: "an answer that is not JSON (HTTP " + r.status + ")" };
    }
    return { status: r.status, data };
  }

  // Tabs.
  const tabs = document.querySelectorAll("nav [data-tab]");
  function showTab(name) {
    for (const b of tabs) b.setAttribute("aria-selected", String(b.dataset.tab === name));
    for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== "tab-" + name;
    if (name === "demos") demoTL.schedule();
    if (name === "travel") ttTL.schedule();
    if (name === "machine") live.schedule();
    location.hash = name === "machine" ? "" : name;
  }
  for (const b of tabs) b.addEventListener("click", () => showTab(b.dataset.tab));

  // ---- The device tree ----

  // renderTree draws a tree view ({devices, links}) into root. Options:
  // onSelect(path) is called when a device is clicked, selected is the
  // path drawn selected, actions(d) returns buttons to put after a device.
  function renderTree(root, tree, opts) {
    opts = opts || {};
    const onSelect = opts.onSelect, selected = opts.selected;
    root.textContent = "";
    const devs = tree.devices || [];
    if (devs.length === 0) {
      root.append(h("p", { class: "empty" }, "no devices"));
      return;
    }
    const kids = new Map();
    const known = new Set(devs.map((d) => d.path));
    const roots = [];
    for (const d of devs) {
      if (d.parent && known.has(d.parent)) {
        if (!kids.has(d.parent)) kids.set(d.parent, []);
        kids.get(d.parent).push(d);
      } else roots.push(d);
    }
    const item = (d) => {
      const tags = [];
      if (d.usb) tags.push(h("span", { class: "tag" }, d.usb));
      if (d.bus) tags.push(h("span", { class: "tag" }, "bus=" + d.bus));
      if (d.class) tags.push(h("span", { class: "tag" }, "class=" + d.class));
      if (d.devt) tags.push(h("span", { class: "tag" }, "dev=" + d.devt));
      if (d.driver) tags.push(h("span", { class: "tag drv" }, "driver=" + d.driver));
      else if (!d.class) tags.push(h("span", { class: "tag nodrv" }, "no driver"));
      if (d.state !== "bound" && d.state !== "added") tags.push(h("span", { class: "tag state-" + d.state }, d.state));
      if (d.override) tags.push(h("span", { class: "tag" }, "driver_override=" + d.override));
      if (d.node) tags.push(h("span", { class: "tag node" }, d.node));
      if (d.files) tags.push(h("span", { class: "tag files" }, d.files + (d.files === 1 ? " open file" : " open files")));
      if (d.rpm) tags.push(h("span", { class: "tag rpm rpm-" + d.rpm, title: "runtime PM: " + (rpmWords[d.rpm] || d.rpm) }, "rpm=" + d.rpm));
      const label = h("span", {
        class: "dev" + (selected === d.path ? " sel" : ""), "data-path": d.path, "data-name": d.name,
        "data-driver": d.driver || "", "data-rpm": d.rpm || "", title: d.path, tabIndex: onSelect ? 0 : undefined,
        onclick: onSelect ? () => onSelect(d.path) : undefined,
      }, h("span", { class: "name" }, d.name), tags, opts.actions ? opts.actions(d) : []);
      const li = h("li", {}, label);
      const ch = kids.get(d.path);
      if (ch) li.append(h("ul", {}, ch.map(item)));
      return li;
    };
    root.append(h("ul", {}, roots.map(item)));
    const links = tree.links || [];
    if (links.length) {
      root.append(h("p", { class: "hint" }, "device links (consumer → supplier):"),
        h("ul", {}, links.map((l) => h("li", { class: "mono" }, short(l.consumer) + " → " + short(l.supplier) + (l.flags ? " [" + l.flags + "]" : "")))));
    }
  }

  // rpmWords explain a device's runtime PM badge (power/runtime_status).
  const rpmWords = {
    active: "active: powered and usable",
    suspended: "suspended: in a low-power state until someone needs it",
    suspending: "suspending: its runtime_suspend callback runs",
    resuming: "resuming: its runtime_resume callback runs",
    unsupported: "unsupported: disabled for this device (nothing enabled it, or the machine sleeps)",
  };

  function short(path) { return path.replace(/^\/sys\/devices\//, ""); }

  // ---- The live machine ----

  const live = new Timeline($("live-timeline"), { height: 440 });
  let state = null;
  let lastSeq = 0;
  let selected = "";

  function selectDevice(path) {
    selected = selected === path ? "" : path;
    live.setDevice(selected);
    if (state) renderMachine();
  }

  // showResult writes a command's outcome in the result line and the
  // console.
  function showResult(text, cls) {
    const r = $("result");
    r.textContent = text;
    r.className = "result " + (cls || "");
  }

  function logConsole(line, text) {
    const out = $("console-out");
    out.textContent += "drvsim> " + line + "\n" + (text ? text.replace(/\n?$/, "\n") : "");
    out.scrollTop = out.scrollHeight;
  }

  // run runs a shell command on the machine.
  async function run(cmd, args, opts) {
    const line = [cmd, ...args].join(" ");
    const body = { cmd, args };
    if (opts && opts.wait) body.wait = true;
    showResult("… " + line, "wait");
    const r = await api("POST", "/api/cmd", body);
    report(line, r);
    return r;
  }

  async function runLine(line) {
    showResult("… " + line, "wait");
    const r = await api("POST", "/api/cmd", { line });
    report(line, r);
    return r;
  }

  function report(line, r) {
    const d = r.data || {};
    let text, cls;
    if (r.status === 200 && d.ok) {
      text = "✓ " + line + (d.output ? " — " + d.output.trim().split("\n").join("; ") : "");
      cls = "ok";
    } else if (r.status === 202) {
      text = "… " + line + ": " + (d.output || "").trim();
      cls = "wait";
    } else if (r.status === 200) {
      text = "✗ " + line + ": " + (d.errno ? d.errno + " " : "") + (d.error || "") + (d.bug ? "\n" + d.bug : "");
      cls = "err";
    } else {
      text = "refused (HTTP " + r.status + "): " + line + ": " + (d.error || "");
      cls = "err";
    }
    showResult(text, cls);
    logConsole(line, (d.output || "") + (d.error ? "error: " + d.error + "\n" : "") + (d.bug || ""));
  }

  const gadgets = [
    ["fff0:fff0", "usb-skeleton loopback (skel)"],
    ["17e9:0001", "DisplayLink adapter (udl)"],
    ["1234:5678", "vendor bulk loopback (no driver)"],
    ["hub", "a hub with 4 ports"],
  ];

  function renderPorts() {
    const box = $("ports");
    box.textContent = "";
    const buses = state.tree.devices.filter((d) => d.usb === "root hub");
    if (buses.length === 0) {
      box.append(h("p", { class: "empty" }, "no USB bus: add one"));
      return;
    }
    const t = h("table", { class: "ctl" });
    for (const b of buses) {
      t.append(h("tr", {}, h("td", { colSpan: 3 }, h("b", {}, b.name + " "),
        h("button", { class: "danger", "data-action": "bus-remove", "data-bus": b.name, onclick: () => run("bus", ["remove", b.name]) }, "remove " + b.name))));
    }
    for (const p of state.ports) {
      let what, actions;
      if (p.device || p.plugged) {
        what = p.device ? p.device + " (" + p.id + ")" : p.id + ": plugged in, not enumerated";
        actions = [h("button", { class: "danger", "data-action": "unplug", "data-port": p.port, onclick: () => run("unplug", [p.port]) }, "unplug")];
        if (p.device && !p.hub && !p.id.startsWith("17e9:")) {
          const data = h("input", { type: "text", value: "hello", size: 8, "aria-label": "data for " + p.port });
          actions.push(data, h("button", { "data-action": "feed", "data-port": p.port, onclick: () => run("feed", [p.port, data.value || "data"]) }, "feed"));
        }
      } else {
        what = h("span", { class: "empty" }, "empty");
        const sel = h("select", { "aria-label": "device for " + p.port, "data-port": p.port }, gadgets.map(([v, l]) => h("option", { value: v }, l)));
        actions = [sel, h("button", { class: "go", "data-action": "plug", "data-port": p.port, onclick: () => {
          if (sel.value === "hub") run("hub", ["add", p.port]); else run("plug", [sel.value, p.port]);
        } }, "plug")];
      }
      t.append(h("tr", { "data-port": p.port }, h("td", { class: "mono" }, p.port), h("td", { class: "mono" }, what), h("td", {}, h("div", { class: "row" }, actions))));
    }
    box.append(t);
  }

  function renderDrivers() {
    const box = $("drivers");
    box.textContent = "";
    const t = h("table", { class: "ctl" });
    for (const l of state.loadable) {
      t.append(h("tr", {}, h("td", { class: "mono" }, l.name), h("td", { class: "hint" }, l.about),
        h("td", {}, l.loaded
          ? h("button", { class: "danger", "data-action": "unload", "data-driver": l.name, onclick: () => run("driver", ["unload", l.name]) }, "unload")
          : h("button", { class: "go", "data-action": "load", "data-driver": l.name, onclick: () => run("driver", ["load", l.name]) }, "load"))));
    }
    box.append(t);
  }

  function renderBindings() {
    const box = $("bindings");
    box.textContent = "";
    const devs = state.tree.devices.filter((d) => d.bus && d.usb !== "root hub");
    if (devs.length === 0) {
      box.append(h("p", { class: "empty" }, "no devices on a bus"));
      return;
    }
    const t = h("table", { class: "ctl" });
    for (const d of devs) {
      let action;
      if (d.driver && d.state === "bound") {
        action = h("button", { class: "danger", "data-action": "unbind", "data-device": d.name, onclick: () => run("unbind", [d.driver, d.name]) }, "unbind " + d.driver);
      } else if (!d.driver) {
        const drivers = state.drivers.filter((x) => x.bus === d.bus);
        const sel = h("select", { "aria-label": "driver for " + d.name }, drivers.map((x) => h("option", { value: x.name }, x.name)));
        action = h("div", { class: "row" }, sel,
          h("button", { class: "go", "data-action": "bind", "data-device": d.name, onclick: () => run("bind", [sel.value, d.name]) }, "bind"),
          h("button", { "data-action": "probe", "data-device": d.name, onclick: () => run("probe", [d.name]) }, "probe"));
      } else action = h("span", { class: "hint" }, d.state);
      t.append(h("tr", {}, h("td", { class: "mono" }, d.name), h("td", { class: "mono" }, d.driver || "—"), h("td", {}, action)));
    }
    box.append(t);
  }

  function renderNodes() {
    const box = $("nodes");
    box.textContent = "";
    const nodes = state.tree.devices.filter((d) => d.node);
    if (nodes.length === 0) {
      box.append(h("p", { class: "empty" }, "no device nodes"));
      return;
    }
    box.append(h("div", { class: "row" }, nodes.map((d) =>
      h("button", { "data-action": "open", "data-node": d.node, onclick: () => run("open", [d.node]) }, "open " + d.node))));
  }

  function renderFiles() {
    const box = $("files");
    box.textContent = "";
    if (state.files.length === 0) box.append(h("p", { class: "empty" }, "no open files"));
    const t = h("table", { class: "ctl" });
    for (const f of state.files) {
      const fd = String(f.fd);
      const data = h("input", { type: "text", value: "hello", size: 8, "aria-label": "data to write to fd " + fd });
      t.append(h("tr", { "data-fd": fd },
        h("td", { class: "mono" }, "fd " + fd), h("td", { class: "mono" }, f.path + (f.stale ? " (driver gone)" : "") + (f.reading ? " — " + f.reading + " read(s) sleeping" : "")),
        h("td", {}, h("div", { class: "row" },
          h("button", { "data-action": "read", "data-fd": fd, onclick: () => run("read", [fd]) }, "read"),
          h("button", { "data-action": "read-wait", "data-fd": fd, title: "a read that sleeps in the driver until data comes or the device goes", onclick: () => run("read", [fd], { wait: true }) }, "read, sleeping"),
          data, h("button", { "data-action": "write", "data-fd": fd, onclick: () => run("write", [fd, data.value || "data"]) }, "write"),
          h("button", { class: "danger", "data-action": "close", "data-fd": fd, onclick: () => run("close", [fd]) }, "close")))));
    }
    box.append(t);
    const reads = state.reads || [];
    if (reads.length) {
      box.append(h("p", { class: "hint" }, "reads started from here:"),
        h("ul", { id: "reads" }, reads.slice().reverse().map((r) => h("li", { class: "mono", "data-read": r.id, "data-done": String(r.done) },
          "read fd " + r.fd + " (" + r.path + "): " + (r.done ? "returned " + r.result : "sleeping in the driver since event " + r.seq)))));
    }
  }

  // treeActions are the buttons of a device in the live tree.
  function treeActions(d) {
    const b = (attrs, text) => h("button", Object.assign({ type: "button" }, attrs, {
      onclick: (ev) => { ev.stopPropagation(); attrs.run(); },
    }), text);
    const out = [];
    if (d.usb === "device" || d.usb === "hub") {
      out.push(b({ class: "danger", "data-action": "unplug", "data-port": d.name, title: "pull the cable (usb_disconnect)", run: () => run("unplug", [d.name]) }, "unplug"));
    }
    if (d.bus && d.usb !== "root hub" && d.usb !== "device" && d.driver && d.state === "bound") {
      out.push(b({ "data-action": "unbind", "data-device": d.name, title: "echo " + d.name + " > unbind", run: () => run("unbind", [d.driver, d.name]) }, "unbind"));
    }
    if (d.node) {
      out.push(b({ "data-action": "open", "data-node": d.node, title: "open(" + d.node + ")", run: () => run("open", [d.node]) }, "open"));
    }
    return out;
  }

  // drawn holds what each section of the machine was drawn from: a
  // section is redrawn only when that changed, so a choice being made in
  // it (a select, a text field) survives the stream of state messages.
  const drawn = {};
  function redraw(name, data, draw) {
    const sig = JSON.stringify(data);
    if (drawn[name] === sig) return;
    drawn[name] = sig;
    draw();
  }

  function renderMachine() {
    redraw("tree", [state.tree, selected], () => renderTree($("tree"), state.tree, { onSelect: selectDevice, selected, actions: treeActions }));
    redraw("ports", [state.ports, state.tree.devices.filter((d) => d.usb === "root hub").map((d) => d.name)], renderPorts);
    redraw("drivers", state.loadable, renderDrivers);
    redraw("bindings", [state.tree.devices.map((d) => [d.name, d.bus, d.usb, d.driver, d.state]), state.drivers], renderBindings);
    redraw("nodes", state.tree.devices.map((d) => d.node), renderNodes);
    redraw("files", [state.files, state.reads], renderFiles);
    redraw("devs", state.tree.devices.map((d) => d.path), () => live.setDevices(state.tree.devices.map((d) => d.path)));
  }

  $("add-bus").addEventListener("click", () => run("bus", ["add", "usb"]));
  $("console").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const line = $("console-line").value.trim();
    if (line) runLine(line);
  });

  // connect follows the machine: a "state" message redraws it, an
  // "events" message extends the trace. EventSource reconnects by itself
  // and resumes after the last event it got.
  function connect() {
    const es = new EventSource("/api/stream?since=" + lastSeq);
    es.addEventListener("open", () => { $("conn").textContent = "live"; $("conn").className = "conn live"; });
    es.addEventListener("error", () => { $("conn").textContent = "disconnected: retrying"; $("conn").className = "conn down"; });
    es.addEventListener("state", (m) => {
      state = JSON.parse(m.data);
      renderMachine();
      document.body.dataset.seq = String(state.seq);
    });
    es.addEventListener("events", (m) => {
      const p = JSON.parse(m.data);
      const fresh = p.events.filter((e) => e[0] > lastSeq);
      if (fresh.length) {
        lastSeq = fresh[fresh.length - 1][0];
        live.append(fresh);
      }
    });
  }

  api("GET", "/api/commands").then((r) => {
    if (r.status !== 200) return;
    $("command-list").append(...r.data.map((c) => h("option", { value: c.name + " " }, c.args + " — " + c.summary)));
  });

  // ---- Demos ----

  const demoTL = new Timeline($("demo-timeline"), { height: 380, follow: false });
  let demo = null, demoPos = 0;

  api("GET", "/api/demos").then((r) => {
    if (r.status !== 200) return;
    $("demo-select").append(...r.data.map((d) => h("option", { value: d.name, title: d.about }, d.name)));
    showDemoAbout();
  });
  function showDemoAbout() {
    const o = $("demo-select").selectedOptions[0];
    $("demo-about").textContent = o ? o.title : "";
  }
  $("demo-select").addEventListener("change", showDemoAbout);

  $("demo-run").addEventListener("click", async () => {
    const name = $("demo-select").value;
    $("demo-pos").textContent = "running " + name + "…";
    const r = await api("POST", "/api/demo", { name });
    if (r.status !== 200) {
      $("demo-pos").textContent = "failed: " + r.data.error;
      return;
    }
    demo = r.data;
    $("demo-intro").textContent = demo.intro.join("\n");
    showPhase(0);
  });
  function showPhase(k) {
    demoPos = Math.max(0, Math.min(k, demo.phases.length - 1));
    const p = demo.phases[demoPos];
    $("demo-pos").textContent = "phase " + (demoPos + 1) + " of " + demo.phases.length;
    $("demo-heading").textContent = p.heading;
    $("demo-notes").textContent = p.notes.join("\n");
    demoTL.setEvents(p.events);
    $("demo-prev").disabled = demoPos === 0;
    $("demo-next").disabled = demoPos === demo.phases.length - 1;
  }
  $("demo-prev").addEventListener("click", () => showPhase(demoPos - 1));
  $("demo-next").addEventListener("click", () => showPhase(demoPos + 1));

  // ---- Time travel ----

  const ttTL = new Timeline($("tt-timeline"), { height: 360, follow: false });
  let runView = null, ttPos = 0, ttToken = 0;
  const stepCache = new Map();
  let scenarios = [];

  api("GET", "/api/scenarios").then((r) => {
    if (r.status !== 200) return;
    scenarios = r.data;
    $("sc-select").append(...scenarios.map((s) => h("option", { value: s.name }, s.name + (s.want ? " (" + s.want + ")" : ""))));
    showScenario();
  });
  function showScenario() {
    const s = scenarios.find((x) => x.name === $("sc-select").value);
    $("sc-about").textContent = s ? s.under + ": " + s.description + " Predicted: " + (s.want ? "a " + s.want : "no schedule fails") + ". Explored " + s.settings + "." : "";
  }
  $("sc-select").addEventListener("change", showScenario);

  async function travel(body) {
    $("tt-verdict").textContent = "running " + body.scenario + "…";
    const r = await api("POST", "/api/travel", body);
    if (r.status !== 200) {
      $("tt-verdict").textContent = "failed: " + r.data.error;
      return;
    }
    $("tt-verdict").textContent = r.data.verdict + (r.data.how ? " — stepping through " + r.data.how : "");
    if (!r.data.found) {
      $("tt-run").hidden = true;
      return;
    }
    runView = r.data;
    stepCache.clear();
    $("tt-run").hidden = false;
    $("tt-replay").textContent = runView.replay;
    $("tt-copied").textContent = "";
    $("tt-slider").max = String(runView.steps.length);
    ttTL.setEvents(runView.events);
    const f = runView.failure;
    $("tt-fail").hidden = !f;
    $("tt-report").hidden = true;
    $("tt-report").open = false;
    if (f) {
      $("tt-report-title").textContent = f.title;
      $("tt-report-text").textContent = f.text;
      $("tt-marks").textContent = "";
      $("tt-marks").append(...f.marks.map((m) => h("li", {}, m.what + " by task " + m.task + " at event " + m.seq + ": step " + m.step + " ",
        h("button", { "data-action": "goto", "data-step": m.step, onclick: () => gotoStep(m.step) }, "go to step " + m.step))));
    }
    await gotoStep(0);
  }
  $("tt-explore").addEventListener("click", () => travel({ scenario: $("sc-select").value, mode: "explore", seed: 1 }));
  $("tt-seed-run").addEventListener("click", () => {
    const seed = Number($("tt-seed").value);
    if (!Number.isInteger(seed) || seed < 0) {
      $("tt-verdict").textContent = "the seed must be a whole number from 0 up";
      return;
    }
    travel({ scenario: $("sc-select").value, mode: "seed", seed });
  });

  async function gotoStep(k) {
    if (!runView) return;
    k = Math.max(0, Math.min(k, runView.steps.length));
    const token = ++ttToken;
    let v = stepCache.get(k);
    if (!v) {
      const r = await api("GET", "/api/travel/" + runView.id + "/step/" + k);
      if (r.status !== 200) {
        $("tt-line").textContent = "step " + k + ": " + r.data.error;
        return;
      }
      v = r.data;
      stepCache.set(k, v);
    }
    if (token !== ttToken) return; // a later step was asked for meanwhile
    ttPos = k;
    showStep(v);
  }

  function showStep(v) {
    const f = runView.failure;
    $("tt-slider").value = String(v.n);
    $("tt-pos").textContent = "step " + v.n + " of " + v.steps;
    document.getElementById("tab-travel").dataset.step = String(v.n);
    $("tt-line").textContent = v.n === 0
      ? "step 0: the set-up, before any task runs"
      : "step " + v.line + (v.next ? "" : " (the run ends)") + (v.task ? "" : " — the start") +
        "  ·  events " + (v.from + 1) + "–" + v.to;
    // The report opens at the step in which the bug happened.
    const banner = $("tt-banner");
    banner.textContent = "";
    if (f && v.n < f.step) {
      banner.hidden = false;
      banner.append("This run fails at step " + f.step + " (" + f.kind + "). ",
        h("button", { onclick: () => gotoStep(f.step) }, "go there"));
    } else banner.hidden = true;
    const rep = $("tt-report");
    if (f && v.n >= f.step) {
      rep.hidden = false;
      if (v.failed) rep.open = true;
    } else {
      rep.hidden = true;
      rep.open = false;
    }
    renderTree($("tt-tree"), v.tree, { onSelect: (p) => ttTL.setDevice(ttTL.dev === p ? "" : p), selected: ttTL.dev });
    const tasks = $("tt-tasks");
    tasks.textContent = "";
    tasks.append(h("tr", {}, h("th", {}, "task"), h("th", {}, "state"), h("th", {}, "where / on what")));
    for (const t of v.tasks) {
      tasks.append(h("tr", { "data-task": t.name, "data-state": t.state }, h("td", { class: "mono" }, t.name),
        h("td", {}, h("span", { class: "pill " + t.state.replace(" ", "-") }, t.state)), h("td", { class: "mono" }, t.detail || "")));
    }
    const mem = $("tt-memory");
    mem.textContent = "";
    $("tt-memsum").textContent = v.memory.live + " live, " + v.memory.freed + " freed";
    mem.append(h("tr", {}, h("th", {}, "#"), h("th", {}, "object"), h("th", {}, "state"), h("th", {}, "allocated"), h("th", {}, "freed")));
    for (const o of v.memory.objects) {
      const freed = o.free > 0;
      const bad = o.reported && f && v.n >= f.step;
      mem.append(h("tr", { class: (freed ? "freed" : "") + (bad ? " reported" : ""), "data-object": o.name, "data-freed": String(freed) },
        h("td", {}, o.id), h("td", { class: "mono" }, o.name + (bad ? " ← accessed after free" : "")),
        h("td", {}, h("span", { class: "pill " + (freed ? "freed" : "live") }, freed ? "freed" : "live")),
        h("td", { class: "mono" }, "event " + o.alloc + " by " + (o.allocTask || "set-up")),
        h("td", { class: "mono" }, freed ? "event " + o.free + " by " + (o.freeTask || "set-up") : "")));
    }
    ttTL.setLimit(v.to);
    ttTL.setHighlight(v.from, v.to);
    ttTL.scrollToSeq(v.from);
  }

  $("tt-first").addEventListener("click", () => gotoStep(0));
  $("tt-prev").addEventListener("click", () => gotoStep(ttPos - 1));
  $("tt-next").addEventListener("click", () => gotoStep(ttPos + 1));
  $("tt-last").addEventListener("click", () => gotoStep(runView ? runView.steps.length : 0));
  $("tt-fail").addEventListener("click", () => runView && runView.failure && gotoStep(runView.failure.step));
  $("tt-slider").addEventListener("input", () => gotoStep(Number($("tt-slider").value)));
  document.addEventListener("keydown", (ev) => {
    if ($("tab-travel").hidden || !runView) return;
    if (ev.target instanceof HTMLInputElement && ev.target.type !== "range") return;
    if (ev.target instanceof HTMLSelectElement) return;
    const to = { ArrowLeft: ttPos - 1, ArrowRight: ttPos + 1, Home: 0, End: runView.steps.length }[ev.key];
    if (to !== undefined) {
      ev.preventDefault();
      gotoStep(to);
    }
  });

  // The replay command, copied to the clipboard: the Clipboard API where
  // the page may use it, else a selected text area and execCommand.
  $("tt-copy").addEventListener("click", async () => {
    const text = $("tt-replay").textContent;
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      const ta = h("textarea", { value: text, style: "position:fixed;left:-9999px" });
      document.body.append(ta);
      ta.select();
      ok = document.execCommand("copy");
      ta.remove();
    }
    $("tt-copied").textContent = ok ? "copied" : "select the command and copy it";
    document.body.dataset.copied = ok ? text : "";
  });

  window.drvsim = { live, demo: demoTL, travel: ttTL, gotoStep, state: () => state, run };
  showTab(location.hash === "#demos" ? "demos" : location.hash === "#travel" ? "travel" : "machine");
  connect();
})();
