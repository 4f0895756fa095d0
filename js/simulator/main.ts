// The simulated Upscope agent view (upscope_widget.simulator): the entry point that
// scripts/build-simulator.mjs compiles into the page the package ships
// (src/upscope_widget/static/simulator.html). It speaks the embedded-session protocol
// (upscope_widget/protocol.py) to its parent window as Upscope's own agent view would, or
// plays a recorded timeline in replay mode.

import { REPLAY } from "./host";
import { flushDeferred, installIntake } from "./intake";
import { installMouse, sizeCanvas } from "./mouse";
import { replayStart } from "./replay";
import { startUp } from "./session";
import { $, safe } from "./util";

installIntake();
installMouse();
setInterval(() => {
  const d = new Date();
  $("clock").textContent = String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}, 1000);

sizeCanvas();
if (REPLAY) safe(replayStart)(REPLAY);
else safe(startUp)(flushDeferred);
