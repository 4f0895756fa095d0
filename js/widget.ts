// anywidget entry: `initialize` owns the model-level bridge; `render` only draws.
import { Bridge, bridgeFor, Model } from "./bridge";
import { attachView } from "./views";
import "./widget.css";

export default {
  initialize({ model }: { model: Model }) {
    const bridge = new Bridge(model);
    return () => bridge.dispose();
  },
  render({ model, el }: { model: Model; el: HTMLElement }) {
    // initialize() and render() get different model proxies: find the bridge by a synced id.
    const bridge = bridgeFor(String(model.get("_session_id")));
    if (!bridge) {
      el.textContent = "upscope-widget: the session's bridge is missing (reload the page).";
      return;
    }
    return attachView(bridge, model, el);
  },
};
