// Progressive enhancements; every page works without them.
// 1. LaTeX in titles and abstracts (elements marked data-math) rendered with KaTeX's auto-render.
// 2. On the search page, results follow the header's search box as you type (from /api/search);
//    without scripts the box is an ordinary form that loads /search.
"use strict";

const mathOptions = {
  delimiters: [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "$", right: "$", display: false },
    { left: "\\(", right: "\\)", display: false },
  ],
  throwOnError: false,
  trust: false,
};

function renderMath(root) {
  if (typeof renderMathInElement !== "function") return;
  for (const element of root.querySelectorAll("[data-math]")) {
    renderMathInElement(element, mathOptions);
  }
}

const pageSize = 20;
const typingPauseMs = 250;
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const sortLabels = [["relevance", "Best match"], ["date", "Newest"], ["upvotes", "Most upvoted"]];

// Builds an element; `children` are nodes or strings (strings become text, never markup).
function make(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

// The same address the server builds for these parameters (search_path in pages.cc).
function searchUrl({ q = "", category = "", year = "", exclude = "", sort = "relevance", page = 1 }) {
  let url = "/search?q=" + encodeURIComponent(q);
  if (category) url += "&category=" + encodeURIComponent(category);
  if (year) url += "&year=" + encodeURIComponent(year);
  if (exclude) url += "&exclude=" + encodeURIComponent(exclude);
  if (sort !== "relevance") url += "&sort=" + encodeURIComponent(sort);
  if (page > 1) url += "&page=" + page;
  return url;
}

function readableDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
  if (!match) return "";
  return `${Number(match[3])} ${months[Number(match[2]) - 1]} ${match[1]}`;
}

// As authors_line() on the server: up to three names, else two and "et al.".
function authorsLine(authors, count) {
  const plural = (n) => `${n} ${n === 1 ? "author" : "authors"}`;
  if (authors.length === 0) return count > 0 ? plural(count) : "";
  if (authors.length > 3) return `${authors[0]}, ${authors[1]} et al. (${plural(authors.length)})`;
  if (authors.length === 1) return authors[0];
  return authors.slice(0, -1).join(", ") + " and " + authors[authors.length - 1];
}

function resultCard(result, rank) {
  // title_html and snippet_html come escaped from the server, with <mark> around matches.
  const title = make("a", { href: result.url, "data-math": "" });
  title.innerHTML = result.title_html;
  const meta = make("p", { class: "meta" });
  const authors = authorsLine(result.authors, result.author_count);
  if (authors) meta.append(make("span", { class: "authors" }, authors));
  const published = readableDate(result.published);
  if (published) meta.append(make("span", { class: "day" }, published));
  const body = make("div", { class: "card-body" },
    make("h2", { class: "card-title" }, make("span", { class: "rank" }, `${rank}.`), " ", title),
    meta);
  if (result.snippet_html) {
    const snippet = make("p", { class: "excerpt snippet", "data-math": "" });
    snippet.innerHTML = result.snippet_html;
    body.append(snippet);
  }
  const foot = make("div", { class: "card-foot" });
  for (const category of result.categories) {
    foot.append(make("a", { class: "cat", href: searchUrl({ q: "cat:" + category }) }, category));
  }
  body.append(foot);
  return make("li", { class: "card result" },
    make("div", { class: "vote", title: "Upvotes" },
      make("span", { class: "vote-arrow", "aria-hidden": "true" }, "▲"),
      make("span", { class: "vote-count" }, String(result.upvotes))),
    body);
}

function facetList(heading, facets, params, field) {
  const fragment = document.createDocumentFragment();
  if (facets.length === 0) return fragment;
  const list = make("ul", { class: "facet-list" });
  for (const facet of facets.slice(0, 12)) {
    const active = params[field] === facet.value;
    const target = { ...params, page: 1, [field]: active ? "" : facet.value };
    list.append(make("li", {}, make("a", { class: "facet" + (active ? " active" : ""), href: searchUrl(target) },
      make("span", {}, facet.value + (active ? " ✕" : "")),
      make("span", { class: "chip-count" }, String(facet.count)))));
  }
  fragment.append(make("h2", {}, heading), list);
  return fragment;
}

// The markup of search.mustache for the first page of `data` (an /api/search answer).
function renderResults(container, data, params) {
  const summary = make("p", { class: "muted" });
  if (data.total !== null) summary.append(`${data.total} ${data.total === 1 ? "paper" : "papers"}`);
  if (params.category) summary.append(" in ", make("strong", {}, params.category));
  if (params.year) summary.append(" from ", make("strong", {}, params.year));
  const head = make("section", { class: "feed-head search-head" },
    make("div", { class: "period-title" },
      make("h1", {}, params.q ? `Results for “${params.q}”` : "Papers"), summary));
  for (const note of data.notes) head.append(make("p", { class: "note" }, note));
  const sorts = make("div", { class: "pills", role: "group", "aria-label": "Sort" });
  for (const [sort, label] of sortLabels) {
    sorts.append(make("a", { class: "pill" + (sort === params.sort ? " active" : ""), href: searchUrl({ ...params, sort, page: 1 }) }, label));
  }
  head.append(sorts);

  const main = make("div", { class: "search-main" });
  if (data.results.length === 0) {
    main.append(make("p", { class: "empty" }, "No papers match. Try fewer or other words, or drop a filter."));
  }
  const cards = make("ol", { class: "cards" });
  data.results.forEach((result, i) => cards.append(resultCard(result, i + 1)));
  main.append(cards);
  if (data.total !== null && data.total > pageSize) {
    main.append(make("nav", { class: "pager", "aria-label": "Pages" },
      make("span", { class: "muted" }, `Page 1 of ${Math.ceil(data.total / pageSize)}`),
      make("a", { class: "step", href: searchUrl({ ...params, page: 2 }), rel: "next" }, "Next ›")));
  }
  const facets = make("aside", { class: "facets", "aria-label": "Filters" },
    facetList("Categories", data.facets.categories, params, "category"),
    facetList("Years", data.facets.years, params, "year"));
  container.replaceChildren(head, make("div", { class: "search-layout" }, main, facets));
  renderMath(container);
}

function setUpInstantSearch() {
  const container = document.getElementById("search-results");
  const input = document.getElementById("site-search");
  if (!container || !input || !input.form || !window.fetch) return;
  const form = input.form;
  const help = document.querySelector("details.syntax");
  let timer = 0;
  let inFlight = null;

  async function update() {
    const fields = new FormData(form);
    const params = {
      q: (fields.get("q") || "").trim(),
      category: fields.get("category") || "",
      year: fields.get("year") || "",
      exclude: fields.get("exclude") || "",
      sort: fields.get("sort") || "relevance",
      page: 1,
    };
    if (!params.q && !params.category && !params.year) return;
    const query = new URLSearchParams({ q: params.q, sort: params.sort, limit: String(pageSize) });
    if (params.category) query.set("category", params.category);
    if (params.year) query.set("year", params.year);
    if (params.exclude) query.set("exclude", params.exclude);
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    try {
      const response = await fetch("/api/search?" + query, { signal: inFlight.signal });
      const data = await response.json();
      if (!response.ok) {
        // A half-typed query (a date filter, say) is not an error worth showing yet; the last
        // results stay, with the reason underneath the heading.
        let note = container.querySelector(".note.problem");
        if (!note) {
          note = make("p", { class: "note problem" });
          container.prepend(note);
        }
        note.textContent = data.error || "Search failed";
        return;
      }
      renderResults(container, data, params);
      if (help) help.open = false;
      history.replaceState(null, "", searchUrl(params));
      document.title = `${params.q || "Search"} · Search · paperboy`;
    } catch (error) {
      if (error.name !== "AbortError") console.warn("instant search:", error);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, typingPauseMs);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  renderMath(document);
  setUpInstantSearch();
});
