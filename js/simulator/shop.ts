// The simulated visitor's site: a small shop, its routes, its cart and how its pages look.

import { SHOP } from "./options";
import { h } from "./util";

export interface Product {
  slug: string;
  name: string;
  price: number;
  pic: string;
  blurb: string;
}

const PRODUCTS: readonly Product[] = [
  { slug: "trail-runner-2", name: "Trail Runner 2", price: 129, pic: "\u{1F45F}", blurb: "A light trail shoe with a grippy, rock-plated sole." },
  { slug: "summit-parka", name: "Summit Parka", price: 249, pic: "\u{1F9E5}", blurb: "Windproof, waterproof, and warm down to -20 \u00B0C." },
  { slug: "day-pack-22", name: "Day Pack 22 L", price: 89, pic: "\u{1F392}", blurb: "A day pack with a hydration sleeve and a rain cover." },
  { slug: "camp-mug", name: "Enamel Camp Mug", price: 14, pic: "\u2615", blurb: "Holds 350 ml of coffee, survives every drop." },
  { slug: "merino-beanie", name: "Merino Beanie", price: 32, pic: "\u{1F9E2}", blurb: "Soft merino wool that keeps you warm when wet." },
];

export interface CartItem {
  slug: string;
  qty: number;
}

/** The visitor's cart; `version` changes whenever the items do (the page is redrawn then). */
export const cart: { items: CartItem[]; version: number } = {
  items: [{ slug: "day-pack-22", qty: 1 }],
  version: 0,
};

function product(slug: string): Product | null {
  return PRODUCTS.find((p) => p.slug === slug) ?? null;
}

function money(n: number): string {
  return "$" + n.toFixed(2);
}

export type Route =
  | { kind: "generic" | "home" | "list" | "cart" | "done" | "notfound"; title: string }
  | { kind: "product"; product: Product; title: string };

export function route(url: string): Route {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    return { kind: "generic", title: String(url) };
  }
  if (u.origin !== SHOP) return { kind: "generic", title: url };
  const p = u.pathname.replace(/\/+$/, "") || "/";
  const m = /^\/products\/([a-z0-9-]+)$/.exec(p);
  const found = m ? product(m[1]) : null;
  if (p === "/") return { kind: "home", title: "Acme Outfitters \u2014 Gear for every trail" };
  if (p === "/products") return { kind: "list", title: "All products \u2014 Acme Outfitters" };
  if (found) return { kind: "product", product: found, title: found.name + " \u2014 Acme Outfitters" };
  if (p === "/cart") return { kind: "cart", title: "Your cart \u2014 Acme Outfitters" };
  if (p === "/checkout/done") return { kind: "done", title: "Order confirmed \u2014 Acme Outfitters" };
  return { kind: "notfound", title: "Page not found \u2014 Acme Outfitters" };
}

/** `u` if it is an absolute http(s) URL the page may show, else null. */
export function checkUrl(u: unknown): string | null {
  if (typeof u !== "string" || !u || u.length > 4096 || /[\s\u0000-\u001f\u007f]/.test(u)) return null;
  let p: URL;
  try {
    p = new URL(u);
  } catch (err) {
    return null;
  }
  return (p.protocol === "http:" || p.protocol === "https:") && p.hostname ? u : null;
}

function shopNav(): HTMLElement {
  const n = cart.items.reduce((a, i) => a + i.qty, 0);
  return h("nav", { class: "shopnav" },
    h("span", { class: "logo", "data-href": "/" }, "\u26F0 Acme Outfitters"),
    h("span", { class: "lnk", "data-href": "/" }, "Home"),
    h("span", { class: "lnk", "data-href": "/products" }, "Products"),
    h("span", { class: "lnk", "data-href": "/cart", id: "cart-link" }, "Cart (" + n + ")"));
}

function card(p: Product): HTMLElement {
  return h("div", { class: "card", "data-href": "/products/" + p.slug },
    h("div", { class: "pic" }, p.pic), h("div", { class: "pname" }, p.name),
    h("div", { class: "price" }, money(p.price)));
}

/** The visitor's page at `url` (a stand-in for any page outside the shop). */
export function pageView(url: string): HTMLElement {
  const r = route(url);
  if (r.kind === "generic") {
    return h("div", { class: "shop generic" },
      h("h1", null, url),
      h("p", { class: "muted" }, "A page outside Acme Outfitters. The simulator shows this stand-in for it."),
      h("div", { class: "ph", style: "width:80%" }), h("div", { class: "ph", style: "width:65%" }),
      h("div", { class: "ph", style: "width:72%" }), h("div", { class: "ph", style: "width:40%" }));
  }
  let body: HTMLElement | HTMLElement[];
  if (r.kind === "home") {
    body = [h("div", { class: "hero" }, h("h1", null, "Gear for every trail"),
      h("p", null, "Free shipping on orders over $75. Free returns for 60 days."),
      h("span", { class: "btn", "data-href": "/products" }, "Shop all products")),
      h("div", { class: "shop" }, h("b", null, "Featured"), h("div", { class: "grid" }, PRODUCTS.slice(0, 3).map(card)))];
  } else if (r.kind === "list") {
    body = h("div", { class: "shop" }, h("h1", null, "All products"), h("div", { class: "grid" }, PRODUCTS.map(card)));
  } else if (r.kind === "product") {
    const p = r.product;
    body = h("div", { class: "shop detail" }, h("div", { class: "pic" }, p.pic),
      h("div", null, h("h1", null, p.name), h("p", { class: "price" }, money(p.price)), h("p", null, p.blurb),
        h("span", { class: "btn", "data-act": "add", "data-slug": p.slug }, "Add to cart")));
  } else if (r.kind === "cart") {
    let total = 0;
    const rows: HTMLElement[] = [];
    for (const item of cart.items) {
      const prod = product(item.slug);
      if (!prod) continue;
      total += prod.price * item.qty;
      rows.push(h("div", { class: "row" }, h("span", null, item.qty + " \u00D7 " + prod.name),
        h("span", null, money(prod.price * item.qty))));
    }
    body = h("div", { class: "shop" }, h("h1", null, "Your cart"),
      rows.length ? rows : h("p", { class: "muted" }, "Your cart is empty."),
      h("div", { class: "row" }, h("b", null, "Total"), h("b", null, money(total))),
      h("div", { class: "checkout" },
        h("b", null, "Checkout"),
        h("input", { type: "text", name: "name", placeholder: "Full name", autocomplete: "off" }),
        h("input", { type: "email", name: "email", placeholder: "Email", autocomplete: "off" }),
        h("input", { type: "text", name: "card", class: "masked", "data-deny": "type", placeholder: "Card number (hidden from agents)", autocomplete: "off" }),
        h("span", { class: "btn", "data-act": "order" }, "Place order"),
        h("span", { class: "btn ghost", "data-deny": "click" }, "Remove saved card")));
  } else if (r.kind === "done") {
    body = h("div", { class: "shop" }, h("h1", null, "Thanks for your order!"),
      h("p", null, "A confirmation is on its way to your inbox."));
  } else {
    body = h("div", { class: "shop" }, h("h1", null, "Page not found"),
      h("p", { class: "muted" }, "We could not find that page."), h("span", { class: "lnk", "data-href": "/" }, "Back to the home page"));
  }
  return h("div", { class: "shoppage", "data-kind": r.kind }, shopNav(), body);
}

/** Add one of `slug` to the cart. */
export function addToCart(slug: string): void {
  const item = cart.items.find((i) => i.slug === slug);
  if (item) item.qty++;
  else cart.items.push({ slug, qty: 1 });
  cart.version++;
}

export function emptyCart(): void {
  cart.items = [];
  cart.version++;
}
