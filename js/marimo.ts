// marimo re-runs the cells that read a widget when its value changes *from the frontend*; the
// session's state reaches Python as custom messages, which re-run nothing. So the kernel (in
// marimo only: src/upscope_widget/_frontends.py) asks us to echo a few state properties into
// the synced `_reactive` trait. Never write traits from JS elsewhere: under ipykernel 7.4 such
// writes stall for good after an awaiting cell.
import { Model } from "./bridge";

/** Mirrors `_frontends.REACTIVE` in Python. */
const REACTIVE = "reactive";

interface WritableModel extends Model {
  set(name: string, value: unknown): void;
  save_changes(): void;
}

export function attachMarimo(model: Model): () => void {
  const writable = model as WritableModel;
  const onKernel = (msg: unknown) => {
    if (typeof msg !== "object" || msg === null) return;
    const m = msg as Record<string, unknown>;
    if (m.kind !== REACTIVE || typeof m.state !== "object" || m.state === null) return;
    writable.set("_reactive", m.state);
    writable.save_changes();
  };
  model.on("msg:custom", onKernel);
  return () => model.off("msg:custom", onKernel);
}
