// Stands in for anywidget's runtime: a model with get/set/on/off/send, and initialize/render
// called with *different* proxies of it, as anywidget 0.11 does. Messages to the kernel go to
// the test (window.__toKernel, a Playwright binding) where a real UpscopeSession handles them.
import widget from "/static/widget.js";

class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
  }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; }
  save_changes() {}
  on(names, cb) {
    for (const name of names.split(" ")) {
      if (!this.handlers.has(name)) this.handlers.set(name, []);
      this.handlers.get(name).push(cb);
    }
  }
  off(names, cb) {
    if (!names) { this.handlers.clear(); return; }
    for (const name of names.split(" ")) {
      const list = this.handlers.get(name) || [];
      this.handlers.set(name, cb ? list.filter((h) => h !== cb) : []);
    }
  }
  emit(name, ...args) { for (const h of [...(this.handlers.get(name) || [])]) h(...args); }
  send(content) {
    // As JSON text, like the real comm: Playwright's own serialisation would drop keys such
    // as "__proto__" that JSON carries.
    const text = JSON.stringify(content);
    if (this.record) { this.record.push(JSON.parse(text)); return; }
    if (this.key !== undefined) { window.__toKernelFor(this.key, text); return; }
    window.__sentToKernel += 1;
    window.__toKernel(text);
  }
}

function proxy(model) {
  return {
    get: (n) => model.get(n), set: (n, v) => model.set(n, v), save_changes: () => {},
    on: (n, cb) => model.on(n, cb), off: (n, cb) => model.off(n, cb),
    send: (c, cbs, bufs) => model.send(c, cbs, bufs),
  };
}

const harness = {
  model: null,
  dispose: null,
  views: [],
  errors: [],
  mount(state) {
    this.model = new FakeModel(state);
    this.dispose = widget.initialize({ model: proxy(this.model) });
  },
  addView() {
    const el = document.createElement("div");
    el.className = "view";
    document.getElementById("views").append(el);
    const cleanup = widget.render({ model: proxy(this.model), el });
    this.views.push({ el, cleanup });
    return this.views.length - 1;
  },
  removeView(i) {
    const v = this.views[i];
    v.cleanup?.();
    v.el.remove();
    v.removed = true;
  },
  unmount() {
    for (let i = 0; i < this.views.length; i++) if (!this.views[i].removed) this.removeView(i);
    this.dispose?.();
    this.model = null;
  },
  fromKernel(content) { this.model.emit("msg:custom", content, []); },
  /** A second widget on the same page, with no Python behind it: what it sends is recorded. */
  mountOther(state) {
    const model = new FakeModel(state);
    model.record = [];
    widget.initialize({ model: proxy(model) });
    const el = document.createElement("div");
    el.className = "other-view";
    document.getElementById("views").append(el);
    widget.render({ model: proxy(model), el });
    this.other = model;
  },
  /** A second widget from its own copy of the module, as anywidget loads one per model. */
  async mountOtherCopy(state) {
    harness.copies = (harness.copies || 0) + 1;
    const copy = (await import(`/static/widget.js?copy=${harness.copies}`)).default;
    const model = new FakeModel(state);
    model.record = [];
    const dispose = copy.initialize({ model: proxy(model) });
    const el = document.createElement("div");
    el.className = "other-view";
    document.getElementById("views").append(el);
    const cleanup = copy.render({ model: proxy(model), el });
    this.otherCopy = { model, dispose, cleanup, el };
  },
  update(state) {
    for (const [k, v] of Object.entries(state)) {
      this.model.state[k] = v;
      this.model.emit(`change:${k}`, this.model, v);
    }
  },
  frameIn(i) { return this.views[i].el.querySelector("iframe"); },

  // Several widgets on one page, each with Python behind it (tests/browser/test_grid.py):
  // models by key; what each sends goes to window.__toKernelFor(key, content).
  keyed: {},
  keyedViews: [],
  mountKeyed(key, state) {
    const model = new FakeModel(state);
    model.key = key;
    model.dispose = widget.initialize({ model: proxy(model) });
    this.keyed[key] = model;
  },
  addViewOf(key) {
    const el = document.createElement("div");
    el.className = "view";
    el.dataset.key = key;
    document.getElementById("views").append(el);
    const cleanup = widget.render({ model: proxy(this.keyed[key]), el });
    this.keyedViews.push({ el, cleanup });
    return this.keyedViews.length - 1;
  },
  removeKeyedView(i) {
    const v = this.keyedViews[i];
    v.cleanup?.();
    v.el.remove();
  },
  fromKernelTo(key, content) { this.keyed[key].emit("msg:custom", content, []); },
  updateOf(key, state) {
    const model = this.keyed[key];
    for (const [k, v] of Object.entries(state)) {
      model.state[k] = v;
      model.emit(`change:${k}`, model, v);
    }
  },
};
window.__sentToKernel = 0;
window.harness = harness;
window.addEventListener("error", (e) => harness.errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => harness.errors.push(String(e.reason)));
window.harnessReady = true;
