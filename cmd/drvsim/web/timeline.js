// Timeline: a trace drawn with one lane per task, as drvsim's Mermaid
// output draws it: each event is a row, in the column of the task that
// recorded it; a context switch is an arrow to the task that runs next.
//
// It stays responsive with hundreds of thousands of events because it
// renders only the rows in view (plus a few): the scroll area has the
// height of every row, and a small pool of row elements is moved to
// where the viewport is. Filters (a device, the kinds of events) build
// an index of the matching events, extended as events arrive.
//
// An event is an array [seq, task, kind, dev, func, msg], as the server
// sends it.
(function () {
  "use strict";

  const ROW = 22; // px per row
  const SEQ_W = 64; // px of the sequence-number column
  const MIN_LANE = 110; // px per lane at least; lanes share the width
  const TAIL = 380; // px kept right of the last lane for its events' text
  const OVERSCAN = 8; // rows rendered above and below the viewport
  const BRIEF = ["notify", "uevent", "lock", "device.ref"]; // as `trace --brief`

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // kindClass maps an event kind to the class that colours it.
  function kindClass(kind, func) {
    if (kind === "warn" || kind === "oops") return "k-warn";
    if (kind === "mem") return "k-mem";
    if (kind === "sched") return "k-sched";
    if (kind === "note") return "k-note";
    if (kind === "srcu" || kind.startsWith("revocable")) return "k-rcu";
    if (kind.startsWith("probe")) return "k-probe";
    if (kind === "unbind" || kind === "remove" || kind === "device.del" || kind === "device.release") return "k-gone";
    if (kind.startsWith("devres")) return "k-devres";
    if (kind === "device.add") return "k-add";
    if (kind.startsWith("usb")) return "k-usb";
    if (kind === "chardev" || kind.startsWith("drm")) return "k-file";
    return "k-other";
  }

  // switchTarget returns the task a scheduler event hands the CPU to.
  function switchTarget(e) {
    if (e[2] !== "sched" || e[4] !== "schedule") return "";
    const i = e[5].lastIndexOf(" -> ");
    return i < 0 ? "" : e[5].slice(i + 4).trim();
  }

  class Timeline {
    // root: the element to fill. opts.height: the viewport's height in
    // px; opts.follow: keep the newest event in view while at the bottom.
    constructor(root, opts) {
      opts = opts || {};
      this.root = root;
      this.events = [];
      this.lanes = []; // task names in order of first appearance
      this.laneOf = new Map();
      this.kinds = new Map(); // kind -> count
      this.hidden = new Set(); // kinds filtered out
      this.dev = ""; // device filter: a substring of the event's device
      this.limit = Infinity; // hide events after this seq (time travel)
      this.hl = [0, 0]; // highlight seq in (hl[0], hl[1]]
      this.index = new Int32Array(1024); // indices of the matching events
      this.count = 0;
      this.follow = opts.follow !== false;
      this.pool = [];
      this.pending = false;
      this.laneW = MIN_LANE;
      this.build(opts.height || 420);
    }

    build(height) {
      const r = this.root;
      r.classList.add("timeline");
      r.textContent = "";
      const bar = el("div", "tl-bar");
      this.devInput = el("input", "tl-dev");
      this.devInput.type = "search";
      this.devInput.placeholder = "filter by device (path or name)";
      this.devInput.setAttribute("aria-label", "filter by device");
      this.devList = el("datalist");
      this.devList.id = "devs-" + Math.random().toString(36).slice(2);
      this.devInput.setAttribute("list", this.devList.id);
      this.devInput.addEventListener("input", () => this.setDevice(this.devInput.value));
      const brief = el("button", "tl-brief", "brief");
      brief.type = "button";
      brief.title = "hide bus notifier, uevent, device lock and refcount events (as trace --brief)";
      brief.addEventListener("click", () => this.setBrief(!this.isBrief()));
      this.briefBtn = brief;
      const all = el("button", "tl-all", "all kinds");
      all.type = "button";
      all.addEventListener("click", () => { this.hidden.clear(); this.refilter(); });
      this.countEl = el("span", "tl-count");
      bar.append(this.devInput, this.devList, brief, all, this.countEl);
      this.chips = el("div", "tl-kinds");
      this.head = el("div", "tl-head");
      this.view = el("div", "tl-view");
      this.view.style.height = height + "px";
      this.view.tabIndex = 0;
      this.spacer = el("div", "tl-spacer");
      this.rows = el("div", "tl-rows");
      this.view.append(this.spacer, this.rows);
      this.view.addEventListener("scroll", () => {
        this.head.scrollLeft = this.view.scrollLeft;
        this.schedule();
      });
      window.addEventListener("resize", () => this.schedule());
      r.append(bar, this.chips, this.head, this.view);
      this.drawHead();
      this.update();
    }

    // setEvents replaces the events.
    setEvents(evs) {
      this.events = [];
      this.lanes = [];
      this.laneOf = new Map();
      this.kinds = new Map();
      this.count = 0;
      this.view.scrollTop = 0;
      this.append(evs);
    }

    // append adds events after the ones held.
    append(evs) {
      if (!evs || evs.length === 0) return;
      const start = this.events.length;
      let newLane = false, newKind = false;
      for (const e of evs) {
        this.events.push(e);
        for (const t of [e[1], switchTarget(e)]) {
          if (t === "" && t !== e[1]) continue;
          if (!this.laneOf.has(t)) {
            this.laneOf.set(t, this.lanes.length);
            this.lanes.push(t);
            newLane = true;
          }
        }
        const n = this.kinds.get(e[2]);
        if (n === undefined) newKind = true;
        this.kinds.set(e[2], (n || 0) + 1);
      }
      if (newLane) this.drawHead();
      if (newKind) this.drawChips();
      const atBottom = this.atBottom();
      this.extend(start);
      this.update();
      if (this.follow && atBottom) this.view.scrollTop = this.view.scrollHeight;
      this.schedule();
    }

    atBottom() {
      const v = this.view;
      return v.scrollTop + v.clientHeight >= v.scrollHeight - ROW * 2;
    }

    matches(e) {
      if (e[0] > this.limit) return false;
      if (this.hidden.has(e[2])) return false;
      if (this.dev && !e[3].includes(this.dev)) return false;
      return true;
    }

    // extend indexes the matching events from events[start] on.
    extend(start) {
      const evs = this.events;
      for (let i = start; i < evs.length; i++) {
        if (!this.matches(evs[i])) continue;
        if (this.count === this.index.length) {
          const grown = new Int32Array(this.index.length * 2);
          grown.set(this.index);
          this.index = grown;
        }
        this.index[this.count++] = i;
      }
    }

    refilter() {
      this.count = 0;
      this.extend(0);
      this.drawChips();
      this.briefBtn.classList.toggle("on", this.isBrief());
      this.update();
      this.schedule();
    }

    setDevice(d) {
      this.dev = d.trim();
      if (this.devInput.value !== d) this.devInput.value = d;
      this.refilter();
    }

    isBrief() { return BRIEF.every((k) => this.hidden.has(k)); }

    setBrief(on) {
      for (const k of BRIEF) {
        if (on) this.hidden.add(k); else this.hidden.delete(k);
      }
      this.refilter();
    }

    toggleKind(k) {
      if (this.hidden.has(k)) this.hidden.delete(k); else this.hidden.add(k);
      this.refilter();
    }

    // setLimit hides the events after seq; setHighlight marks (from, to].
    setLimit(seq) { this.limit = seq; this.refilter(); }
    setHighlight(from, to) { this.hl = [from, to]; this.schedule(); }

    // scrollToSeq brings the first shown event with a seq above seq into
    // view, near the top.
    scrollToSeq(seq) {
      let lo = 0, hi = this.count;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.events[this.index[mid]][0] <= seq) lo = mid + 1; else hi = mid;
      }
      this.view.scrollTop = Math.max(0, (lo - 3) * ROW);
      this.schedule();
    }

    // setDevices offers these device paths in the device filter's list.
    setDevices(paths) {
      this.devList.textContent = "";
      for (const p of paths) {
        const o = el("option");
        o.value = p;
        this.devList.append(o);
      }
    }

    // drawHead names the lanes; they share the viewport's width, each
    // MIN_LANE wide at least (then the timeline scrolls sideways).
    drawHead() {
      const lanes = Math.max(1, this.lanes.length);
      const avail = (this.view.clientWidth || 900) - SEQ_W - 16;
      this.laneW = Math.max(MIN_LANE, Math.floor((avail - TAIL) / lanes));
      this.width = Math.max(SEQ_W + avail, SEQ_W + lanes * this.laneW + TAIL);
      this.drawnWidth = this.view.clientWidth;
      this.head.textContent = "";
      const inner = el("div", "tl-head-inner");
      inner.append(el("span", "tl-hseq", "seq"));
      this.lanes.forEach((t, i) => {
        const h = el("span", "tl-lane", t === "" ? "kernel" : t);
        h.style.left = SEQ_W + i * this.laneW + "px";
        h.style.width = this.laneW + "px";
        h.title = t === "" ? "events recorded outside any task (set-up, the kernel's own workers)" : "task " + t;
        inner.append(h);
      });
      const w = this.width;
      inner.style.width = w + "px";
      this.head.append(inner);
      this.spacer.style.width = w + "px";
      this.rows.style.width = w + "px";
      this.rows.style.backgroundImage = "repeating-linear-gradient(to right, transparent 0, transparent " +
        (this.laneW - 1) + "px, #e6e9ee " + (this.laneW - 1) + "px, #e6e9ee " + this.laneW + "px)";
      this.head.scrollLeft = this.view.scrollLeft;
    }

    drawChips() {
      this.chips.textContent = "";
      const kinds = [...this.kinds.keys()].sort();
      for (const k of kinds) {
        const b = el("button", "chip " + kindClass(k, ""), k + " " + this.kinds.get(k));
        b.type = "button";
        b.dataset.kind = k;
        b.setAttribute("aria-pressed", String(!this.hidden.has(k)));
        if (this.hidden.has(k)) b.classList.add("off");
        b.addEventListener("click", () => this.toggleKind(k));
        this.chips.append(b);
      }
    }

    update() {
      this.spacer.style.height = this.count * ROW + "px";
      this.rows.style.height = this.count * ROW + "px";
      this.countEl.textContent = this.count === this.events.length
        ? this.events.length.toLocaleString("en") + " events"
        : this.count.toLocaleString("en") + " of " + this.events.length.toLocaleString("en") + " events";
      this.root.dataset.count = String(this.count);
      this.root.dataset.total = String(this.events.length);
    }

    schedule() {
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.render(); });
    }

    // render draws the rows in view, and only them.
    render() {
      const v = this.view;
      if (v.clientWidth && v.clientWidth !== this.drawnWidth) this.drawHead();
      const first = Math.max(0, Math.floor(v.scrollTop / ROW) - OVERSCAN);
      const last = Math.min(this.count, Math.ceil((v.scrollTop + v.clientHeight) / ROW) + OVERSCAN);
      const n = Math.max(0, last - first);
      while (this.pool.length < n) {
        const row = el("div", "tl-row");
        const arrow = el("span", "tl-arrow");
        arrow.append(el("span", "tl-arrow-label"), el("span", "tl-arrow-line"));
        row.append(el("span", "tl-seq"), el("span", "tl-ev"), arrow);
        this.rows.append(row);
        this.pool.push(row);
      }
      for (let j = 0; j < this.pool.length; j++) {
        const row = this.pool[j];
        if (j >= n) {
          row.style.display = "none";
          continue;
        }
        const e = this.events[this.index[first + j]];
        this.drawRow(row, e, first + j);
      }
      this.root.dataset.rendered = String(n);
      this.root.dataset.first = n > 0 ? String(this.events[this.index[first]][0]) : "";
    }

    drawRow(row, e, i) {
      row.style.display = "";
      row.style.top = i * ROW + "px";
      row.dataset.seq = e[0];
      row.className = "tl-row " + kindClass(e[2], e[4]) + (e[0] > this.hl[0] && e[0] <= this.hl[1] ? " hl" : "");
      const [seq, ev, arrow] = row.children;
      seq.textContent = e[0];
      const lane = this.laneOf.get(e[1]) || 0;
      const W = this.laneW;
      // The text starts in its task's lane and may run on to the right:
      // the other lanes of the row are empty.
      ev.style.left = SEQ_W + lane * W + "px";
      ev.style.width = this.width - SEQ_W - lane * W - 8 + "px";
      const text = e[4] + (e[3] ? " " + e[3] : "") + (e[5] ? ": " + e[5] : "");
      ev.textContent = text;
      row.title = e[0] + (e[1] ? " [" + e[1] + "] " : " ") + "(" + e[2] + ") " + text;
      const to = switchTarget(e);
      if (to && this.laneOf.has(to) && this.laneOf.get(to) !== lane) {
        const a = lane, b = this.laneOf.get(to);
        arrow.style.display = "";
        arrow.style.left = SEQ_W + (Math.min(a, b) + 0.5) * W + "px";
        arrow.style.width = Math.abs(b - a) * W + "px";
        arrow.className = "tl-arrow " + (b > a ? "right" : "left");
        ev.textContent = "";
        ev.style.display = "none";
        arrow.firstChild.textContent = e[5];
      } else {
        arrow.style.display = "none";
        ev.style.display = "";
      }
    }
  }

  window.Timeline = Timeline;
})();
