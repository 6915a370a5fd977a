// Renders LaTeX in titles and abstracts (elements marked data-math) with KaTeX's auto-render.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof renderMathInElement !== "function") return;
  const options = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
    trust: false,
  };
  for (const element of document.querySelectorAll("[data-math]")) {
    renderMathInElement(element, options);
  }
});
