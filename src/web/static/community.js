// Progressive enhancements of the community parts; every form works without them.
// Upvote buttons toggle in place through the JSON API (with the page's CSRF token) and show
// whether the signed-in visitor has voted; without a session they lead to the sign-in page.
"use strict";

(() => {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const forms = Array.from(document.querySelectorAll("form[data-upvote]"));
  if (forms.length === 0) return;

  // "/papers/2312.00752/upvote" -> "2312.00752"
  const paperId = (form) =>
    decodeURIComponent(new URL(form.action, location.href).pathname.replace(/^\/papers\//, "").replace(/\/upvote$/, ""));

  function show(form, voted, upvotes) {
    const button = form.querySelector("button");
    button.setAttribute("aria-pressed", voted ? "true" : "false");
    form.classList.toggle("voted", voted);
    if (upvotes !== undefined) form.querySelector(".vote-count").textContent = String(upvotes);
  }

  if (csrf) {
    const ids = forms.map(paperId);
    fetch("/api/me/votes?ids=" + ids.map(encodeURIComponent).join(","), { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { voted: [] }))
      .then(({ voted }) => {
        const set = new Set(voted);
        for (const form of forms) show(form, set.has(paperId(form)));
      })
      .catch(() => {});
  }

  for (const form of forms) {
    form.addEventListener("submit", async (event) => {
      if (!csrf) return;  // not signed in: the form posts and the server asks to sign in
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch("/api" + new URL(form.action, location.href).pathname, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf },
        });
        if (response.status === 401) {
          location.href = "/signin?next=" + encodeURIComponent(location.pathname);
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        const result = await response.json();
        show(form, result.voted, result.upvotes);
      } catch (error) {
        form.submit();
      } finally {
        button.disabled = false;
      }
    });
  }
})();
