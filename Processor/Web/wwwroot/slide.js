// Slide view: the slide as a Deep Zoom pyramid with the mask overlay over it, legend with areas and per-class
// toggles, opacity, optional GeoJSON outlines, a scale bar from the MPP, downloads.
"use strict";
const id = location.pathname.split("/").pop();
const hidden = new Set();
let info, viewer, overlayItem = null, outlines = null;

function source(base, ext, query) {
  const dz = info.deepZoom;
  return {
    width: dz.width, height: dz.height, tileSize: dz.tileSize, tileOverlap: 0, minLevel: 0, maxLevel: dz.maxLevel,
    getTileUrl: (level, x, y) => `${base.replace(/\.dzi$/, "")}_files/${level}/${x}_${y}.${ext}${query}`,
  };
}

function opacity() { return Number(document.getElementById("opacity").value) / 100; }

// Loaded state for people and tests alike: data-loaded="1" once every layer has drawn all the tiles it needs.
function watchLoaded(item) {
  document.body.dataset.loaded = "0";
  item.addHandler("fully-loaded-change", () => {
    const all = [...Array(viewer.world.getItemCount()).keys()].every(i => viewer.world.getItemAt(i).getFullyLoaded());
    document.body.dataset.loaded = all ? "1" : "0";
  });
}

function addOverlay() {
  if (!info.deepZoom.overlay) return;
  const query = hidden.size ? "?hide=" + [...hidden].sort((a, b) => a - b).join(",") : "";
  const old = overlayItem;
  viewer.addTiledImage({
    tileSource: source(info.deepZoom.overlay, "png", query), opacity: opacity(), x: 0, y: 0, width: 1,
    // The new overlay is drawn before the old one goes, so toggling a class does not flash the bare slide.
    success: e => { overlayItem = e.item; watchLoaded(e.item); if (old) viewer.world.removeItem(old); },
  });
}

function legend() {
  const body = document.querySelector("#legend tbody");
  body.replaceChildren(...info.classes.map(c => {
    const box = el("input", { type: "checkbox", "data-class": c.id, title: "show " + c.name });
    box.checked = !c.background;
    box.disabled = c.background;
    box.addEventListener("change", () => { if (box.checked) hidden.delete(c.id); else hidden.add(c.id); addOverlay(); });
    return el("tr", { "data-class": c.id },
      el("td", {}, box),
      el("td", {}, el("span", { class: "swatch", style: "background:" + (c.background ? "transparent" : c.colour) })),
      el("td", { text: c.name }),
      el("td", { text: fmt(c.areaMm2, 3) }),
      el("td", { text: c.percentOfTissue == null ? "" : fmt(c.percentOfTissue, 1) + " %" }));
  }));
  const s = info.summary;
  document.getElementById("tissue").textContent = "Tissue " + fmt(s.tissueAreaMm2, 2) + " mm²; analysed at " + fmt(info.analysis.mpp, 2) + " µm/px; " + s.model;
}

function files() {
  document.getElementById("files").replaceChildren(...info.files.map(f =>
    el("li", {}, el("a", { href: f.url, text: f.name }), " (" + bytes(f.bytes) + ")")));
}

function scaleBar() {
  const mpp = info.summary.mpp ?? (info.analysis.mpp && info.analysis.mpp / info.analysis.downsampleToLevel0);
  const box = document.getElementById("scalebar");
  const item = viewer.world.getItemAt(0);
  if (!mpp || !item) { box.hidden = true; return; }
  const screenPerImage = item.viewportToImageZoom(viewer.viewport.getZoom(true));
  const umPerScreenPx = mpp / screenPerImage;
  const target = 150 * umPerScreenPx, pow = Math.pow(10, Math.floor(Math.log10(target)));
  const nice = [1, 2, 5, 10].map(m => m * pow).filter(v => v <= target).pop() || pow;
  document.getElementById("scalebar-bar").style.width = Math.round(nice / umPerScreenPx) + "px";
  document.getElementById("scalebar-label").textContent = nice >= 1000 ? fmt(nice / 1000, 2) + " mm" : fmt(nice, 2) + " µm";
}

async function toggleOutlines(on) {
  if (!on) { if (outlines) viewer.removeOverlay(outlines); outlines = null; return; }
  const geo = await getJson(info.geojson);
  const { width: w, height: h } = info.deepZoom;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.id = "outlines-layer";
  for (const f of geo.features || []) {
    const g = f.geometry; if (!g) continue;
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    const d = polys.map(rings => rings.map(r => "M" + r.map(p => p[0] + " " + p[1]).join("L") + "Z").join("")).join("");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", f.properties?.classification?.color ? rgb(f.properties.classification.color) : "#000");
    path.setAttribute("stroke-width", "1.5");
    path.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(path);
  }
  outlines = svg;
  viewer.addOverlay({ element: svg, location: new OpenSeadragon.Rect(0, 0, 1, h / w) });
}
function rgb(c) { return Array.isArray(c) ? `rgb(${c[0]},${c[1]},${c[2]})` : typeof c === "number" ? "#" + (c & 0xffffff).toString(16).padStart(6, "0") : c; }

async function main() {
  info = await getJson("/api/slides/" + id);
  const s = info.summary;
  document.title = "WsiSegment — " + s.name;
  document.getElementById("title").textContent = s.name;
  document.getElementById("meta").textContent = `${s.width} × ${s.height} px, ${fmt(s.mpp, 3)} µm/px, segmented ${new Date(s.finished).toLocaleString()}`;
  legend();
  files();
  viewer = OpenSeadragon({
    id: "viewer", prefixUrl: "/static/lib/openseadragon/images/", drawer: "canvas", showNavigator: true,
    maxZoomPixelRatio: 4, visibilityRatio: 0.5, crossOriginPolicy: false, homeFillsViewer: false,
  });
  window.wsiViewer = viewer;
  viewer.addHandler("animation", scaleBar);
  viewer.addHandler("open", scaleBar);
  if (info.deepZoom.slide)
    viewer.addTiledImage({ tileSource: source(info.deepZoom.slide, "jpeg", ""), x: 0, y: 0, width: 1,
      success: e => { watchLoaded(e.item); scaleBar(); addOverlay(); } });
  else addOverlay();
  const range = document.getElementById("opacity");
  range.addEventListener("input", () => {
    document.getElementById("opacity-value").textContent = range.value + " %";
    if (overlayItem) overlayItem.setOpacity(opacity());
  });
  const outlinesBox = document.getElementById("outlines");
  outlinesBox.disabled = !info.geojson;
  outlinesBox.addEventListener("change", () => toggleOutlines(outlinesBox.checked));
}
main();
