// Checks for frontends that differ from JupyterLab in ways this widget cannot work around.
// A frame with an opaque origin (a sandbox without allow-same-origin, or a scheme the URL
// standard does not know, such as VS Code's vscode-webview: in a spec-exact browser) gives a
// blob: page the origin "null": the simulator's messages could not be pinned to any origin,
// and postMessage refuses "null" as a target. Say so at once instead of waiting in vain.
import { Model } from "./bridge";

/** The origin a blob: page made here would have ("null" when opaque). */
function blobOrigin(): string {
  try {
    const probe = URL.createObjectURL(new Blob([""], { type: "text/plain" }));
    const origin = new URL(probe).origin;
    URL.revokeObjectURL(probe);
    return origin;
  } catch {
    return "null";
  }
}

/** Why the session cannot be shown in this frontend, or null when it can. */
export function frontendProblem(model: Model): string | null {
  const page = model.get("_simulator_page");
  if (typeof page !== "string" || !page || blobOrigin() !== "null") return null;
  const where =
    location.protocol === "vscode-webview:"
      ? "VS Code's output webview"
      : "an output frame whose origin is opaque (sandboxed without allow-same-origin)";
  return (
    `upscope-widget: the simulator cannot run in ${where}. Its page is a blob: page, which ` +
    "here gets no origin that its messages could be checked against. Use a real watch link " +
    "here (UpscopeSession(url) or UpscopeSession.for_visitor), or open the notebook in " +
    "JupyterLab, Notebook 7, Voilà or marimo."
  );
}

export function showProblem(el: HTMLElement, problem: string): void {
  const box = document.createElement("div");
  box.className = "upscope-refused upscope-frontend-problem";
  box.setAttribute("role", "alert");
  box.textContent = problem;
  el.replaceChildren(box);
}
