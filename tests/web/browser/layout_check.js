() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) problems.push({what: "page scrolls sideways", width: doc.scrollWidth, viewport: window.innerWidth});
  const scroller = (el, stop) => { for (let e = el.parentElement; e && e !== stop; e = e.parentElement) { const s = getComputedStyle(e); if (["auto","scroll","hidden"].includes(s.overflowX)) return e; } return null; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "") + (el.dataset && el.dataset.testid ? `[${el.dataset.testid}]` : "");
  for (const box of document.querySelectorAll(".card, main, header.top")) {
    const edge = box.getBoundingClientRect();
    for (const el of box.querySelectorAll("*")) {
      const s = getComputedStyle(el);
      if (s.position === "absolute" || s.position === "fixed" || s.display === "none") continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (scroller(el, box)) continue;
      let what = null;
      if (r.right > edge.right + 1 || r.left < edge.left - 1) what = "runs out of its container";
      else if (s.display !== "inline" && s.overflowX === "visible" && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && el.tagName !== "TABLE") what = "its content runs out of it";
      if (what) {
        problems.push({what, container: name(box), element: name(el), text: (el.innerText || "").slice(0, 40), right: Math.round(r.right), edge: Math.round(edge.right)});
        if (problems.length > 8) return {problems};
      }
    }
  }
  return {problems};
}
