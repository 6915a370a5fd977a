// Keyboard navigation of paper lists (feeds, trending, search, author and category pages):
//   j / k  move to the next / previous card     o  open it     u  upvote it
//   /      go to the search box (Escape leaves it)
// The card in focus carries the page's focus ring. Keys typed into fields are left alone.
"use strict";

(() => {
  let current = -1;

  const cards = () => Array.from(document.querySelectorAll("ol.cards > li.card"));

  function focusCard(index) {
    const list = cards();
    if (list.length === 0) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    const card = list[current];
    for (const other of list) other.classList.toggle("focused", other === card);
    card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  // The card in focus, or nothing when the focus went elsewhere (a click, a new result list).
  function focusedCard() {
    const list = cards();
    const index = list.indexOf(document.activeElement);
    if (index >= 0) current = index;
    return index >= 0 ? list[index] : null;
  }

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    // Escape leaves the search box, so j/k work right after instant search.
    if (event.key === "Escape" && event.target.id === "site-search") {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const card = focusedCard();
    switch (event.key) {
      case "j":
        focusCard(card ? current + 1 : 0);
        break;
      case "k":
        focusCard(card ? current - 1 : 0);
        break;
      case "o": {
        const link = card && card.querySelector(".card-title a");
        if (!link) return;
        location.href = link.href;
        break;
      }
      case "u": {
        const button = card && card.querySelector("form[data-upvote] button");
        if (!button) return;
        button.click();
        break;
      }
      case "/": {
        const search = document.getElementById("site-search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });

  // Leaving a card by mouse or Tab takes its ring away with the focus.
  document.addEventListener("focusin", (event) => {
    for (const card of document.querySelectorAll("li.card.focused")) {
      if (card !== event.target) card.classList.remove("focused");
    }
  });
})();
