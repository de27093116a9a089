// Index: the segmented slides (newest first, filter by name) and, under watch, the service's live status.
"use strict";
let slides = [];
const filter = document.getElementById("filter");

function render() {
  const q = filter.value.trim().toLowerCase();
  const rows = slides.filter(s => !q || s.name.toLowerCase().includes(q));
  const body = document.querySelector("#slides tbody");
  body.replaceChildren(...rows.map(s => {
    const dominant = el("td", {});
    for (const c of s.dominant) dominant.append(el("span", { class: "swatch", style: "background:" + c.colour }), " " + c.name + " " + fmt(c.percent, 1) + " %  ");
    return el("tr", { "data-id": s.id },
      el("td", {}, s.thumbnail ? el("img", { src: s.thumbnail, alt: "" }) : ""),
      el("td", {}, el("a", { href: s.url, text: s.name })),
      el("td", { text: s.width + " × " + s.height }),
      el("td", { text: fmt(s.mpp, 3) }),
      el("td", { text: new Date(s.finished).toLocaleString() }),
      el("td", { text: s.model }),
      el("td", { text: fmt(s.tissueAreaMm2, 2) }),
      dominant);
  }));
  document.getElementById("count").textContent = rows.length + " of " + slides.length + " slides";
  document.getElementById("empty").hidden = slides.length > 0;
}

function renderStatus(st) {
  document.getElementById("watch").hidden = !st.watch;
  const workers = document.getElementById("workers");
  workers.replaceChildren(...st.workers.map(w => {
    const c = w.current, q = w.queue || {}, n = w.counts || {};
    const box = el("div", { class: "worker" },
      el("p", { text: `${w.worker?.host ?? ""} (pid ${w.worker?.pid ?? "?"}): ${w.state}; queue ${q.waiting ?? 0} waiting, ${q.arriving ?? 0} arriving; ` +
        `done ${n.done ?? 0}, failed ${n.failed ?? 0}, skipped ${n.skipped ?? 0}` }));
    if (c) box.append(el("p", { class: "current" }, "Now: " + c.slide + " — " + c.stage + " ",
      el("span", { class: "progress" }, el("div", { style: "width:" + Math.round(100 * (c.fraction || 0)) + "%" })),
      " " + Math.round(100 * (c.fraction || 0)) + " %"));
    return box;
  }));
  const failed = document.getElementById("failed");
  failed.replaceChildren(...(st.failed.length ? [el("h3", { text: "Failed slides" }),
    el("ul", {}, ...st.failed.map(f => el("li", { class: "failed", text: `${f.slide}: ${f.reason} (${f.stage}, ${f.kind}, ${f.attempts} attempt(s))` })))] : []));
}

async function loadSlides() { slides = await getJson("/api/slides"); render(); }

filter.addEventListener("input", render);
loadSlides();
getJson("/api/status").then(renderStatus);
// Live: the server pushes "status" when status.json or the failed list changes, "slides" when a report appears.
const events = new EventSource("/api/events");
events.addEventListener("status", e => renderStatus(JSON.parse(e.data)));
events.addEventListener("slides", () => loadSlides());
