// Small helpers shared by the pages (no framework, no build step).
"use strict";
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
function fmt(n, digits) { return n == null ? "–" : Number(n).toLocaleString("en", { maximumFractionDigits: digits ?? 2 }); }
function bytes(n) { return n > 1 << 20 ? fmt(n / (1 << 20), 1) + " MiB" : fmt(n / 1024, 1) + " KiB"; }
async function getJson(url) { const r = await fetch(url); if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); }
