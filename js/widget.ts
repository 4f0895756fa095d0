// anywidget entry: `initialize` owns the model-level bridge; `render` only draws.
import { Bridge, bridgeFor, Model } from "./bridge";
import { attachGrid } from "./grid";
import { frontendProblem, showProblem } from "./frontends";
import { attachMarimo } from "./marimo";
import { attachView } from "./views";
import "./widget.css";

export default {
  initialize({ model }: { model: Model }) {
    if (isGrid(model)) return; // a SessionGrid has no iframe of its own
    const bridge = new Bridge(model);
    const detachMarimo = attachMarimo(model);
    return () => {
      detachMarimo();
      bridge.dispose();
    };
  },
  render({ model, el }: { model: Model; el: HTMLElement }) {
    if (isGrid(model)) return attachGrid(model, el);
    const problem = frontendProblem(model);
    if (problem) return showProblem(el, problem);
    // initialize() and render() get different model proxies: find the bridge by a synced id.
    const bridge = bridgeFor(String(model.get("_session_id")));
    if (!bridge) {
      el.textContent = "upscope-widget: the session's bridge is missing (reload the page).";
      return;
    }
    return attachView(bridge, model, el);
  },
};

/** A SessionGrid model (same bundle, no session of its own). */
function isGrid(model: Model): boolean {
  return Array.isArray(model.get("_grid_sessions"));
}
