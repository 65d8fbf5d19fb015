// Demo page. Opens with rows that need no choice (popular, new); a picked user, a mood and the
// reactions given here (like / not for me, kept in localStorage) shape "Recommended for you".
// Every personal list is one POST /recommendations: the user's liked history plus this
// browser's likes as `history`; the user's other watched titles and the turned-down items as
// `seen` (a badly rated title never comes back); the mood as `text` (no key needed).
const $ = (id) => document.getElementById(id);
const K = 12;
const SIMILAR = { text: "plot", image: "poster", video: "trailer" }; // "Because you watched" rows
// reason_kind (the ranker's strongest feature group) -> the badge on a card
const KIND = {
  text: "plot", image: "poster", video: "trailer", review_text: "reviews",
  collaborative: "people like you", tower: "your history", popular: "popular",
  fresh: "new", taste: "your taste", query: "your mood",
};

const state = {
  user: "",
  history: [], // the picked user's liked items, newest first (GET /users/{id}/history)
  seen: [], // every item the picked user watched, liked or not
  modalities: [], // what /version says the served run has vectors for
  session: { liked: [], dismissed: [] }, // this browser's reactions for this user (or anon)
  recsCall: 0, // drops answers to superseded requests
};

async function getJSON(url, options) {
  const res = await fetch(url, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.detail ? JSON.stringify(body.detail) : res.statusText);
    err.status = res.status;
    throw err;
  }
  return body;
}

function showError(err, prefix = "Error") {
  $("status").textContent = `${prefix}: ${err.message}`;
  $("status").dataset.kind = "error";
}

function clearError() { // a notice (private user pages) stays
  if ($("status").dataset.kind === "error") { $("status").textContent = ""; delete $("status").dataset.kind; }
}

// ------------------------------------------------------------------ session (localStorage)
const sessionKey = () => `recsys.session.${state.user || "anon"}`;

function loadSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(sessionKey()) || "{}");
    state.session = { liked: saved.liked || [], dismissed: saved.dismissed || [] };
  } catch {
    state.session = { liked: [], dismissed: [] };
  }
  showSession();
}

function saveSession() {
  localStorage.setItem(sessionKey(), JSON.stringify(state.session));
  showSession();
}

function showSession() {
  const { liked, dismissed } = state.session;
  $("session").hidden = liked.length + dismissed.length === 0;
  $("session-summary").textContent =
    `Here you liked ${liked.length}, turned down ${dismissed.length} ·`;
}

const isLiked = (id) => state.session.liked.some((it) => it.item_id === id);
const isDismissed = (id) => state.session.dismissed.includes(id);

function likedIds() { // oldest first, as POST /recommendations wants
  const ids = [...state.history].reverse().map((it) => it.item_id);
  for (const it of state.session.liked) if (!ids.includes(it.item_id)) ids.push(it.item_id);
  return ids;
}

function react(item, how) {
  const s = state.session;
  s.liked = s.liked.filter((it) => it.item_id !== item.item_id);
  s.dismissed = s.dismissed.filter((id) => id !== item.item_id);
  if (how === "like") s.liked.push({ item_id: item.item_id, title: item.title });
  if (how === "nope") s.dismissed.push(item.item_id);
  saveSession();
  if (how === "nope") { // gone at once, everywhere; the lists refill below
    document.querySelectorAll(`.card[data-item-id="${item.item_id}"]`).forEach((c) => c.remove());
  }
  document.querySelectorAll(`.card[data-item-id="${item.item_id}"] .like`)
    .forEach((b) => b.setAttribute("aria-pressed", String(how === "like")));
  refresh();
}

// ------------------------------------------------------------------ cards
function featureLabel(name) {
  const MOD = { text: "plot", image: "poster", video: "trailer", review_text: "reviews" };
  const SRC = {
    ease: "co-watching (EASE)", ease_recent: "recent co-watching (EASE)",
    itemknn: "co-watching (item-kNN)", als: "rating factors (ALS)", tower: "history model",
    fresh: "new-title match", recent_popularity: "popular recently", popularity: "popular",
    query: "your mood",
  };
  const ITEM = {
    pop_all: "likes, all time", pop_recent: "likes, recently", age_days: "time on the service",
    year: "release year", likes: "likes", cold: "new title", mean_rating: "average rating",
    n_ratings: "number of ratings", user_likes: "how much you watch",
    year_gap: "years from yours", genre_affinity: "your genres", genre_max: "your top genre",
  };
  const [kind, ...rest] = name.split(":");
  const what = rest.join(":");
  const source = (s) => (s.startsWith("content:") ? `${MOD[s.slice(8)] || s.slice(8)} match` : SRC[s] || s);
  if (kind === "score") return `${source(what)}, score`;
  if (kind === "rank") return `${source(what)}, rank`;
  const STAT = { cos_max: "closest", cos_mean: "average", cos_z: "vs. typical" };
  if (kind in STAT) return `${MOD[what] || what} similarity (${STAT[kind]})`;
  return ITEM[name] || name;
}

function contributionList(contributions) {
  const entries = Object.entries(contributions).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const top = Math.max(...entries.map(([, v]) => Math.abs(v)), 1e-9);
  const ul = document.createElement("ul");
  ul.className = "contributions";
  for (const [name, value] of entries) {
    const li = document.createElement("li");
    li.title = name;
    const label = document.createElement("span");
    label.textContent = featureLabel(name);
    const bar = document.createElement("span");
    bar.className = `bar ${value >= 0 ? "up" : "down"}`;
    bar.style.width = `${Math.round((40 * Math.abs(value)) / top)}px`;
    const num = document.createElement("span");
    num.className = "value";
    num.textContent = `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(3)}`;
    li.append(label, bar, num);
    ul.append(li);
  }
  return ul;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function card(item, { reactions = true } = {}) {
  const div = el("article", "card");
  div.dataset.itemId = item.item_id;
  const play = el("button", "play");
  play.type = "button";
  play.setAttribute("aria-label", `Play the trailer of ${item.title}`);
  const img = document.createElement("img");
  img.alt = item.title;
  if (item.poster_url) img.src = item.poster_url;
  play.append(img);
  play.addEventListener("click", () => openPlayer(item));
  const body = el("div", "body");
  body.append(el("div", "title", item.title));
  if (item.reason) {
    const reason = el("div", "reason");
    const kind = item.reason_kind;
    if (kind) reason.append(el("span", `badge kind-${kind}`, KIND[kind] || kind), " ");
    reason.append(item.reason);
    body.append(reason);
  }
  if (item.contributions && Object.keys(item.contributions).length) {
    const details = el("details", "why");
    details.append(el("summary", "", "why this score"), contributionList(item.contributions));
    body.append(details);
  }
  if (reactions) {
    const actions = el("div", "actions");
    const like = el("button", "like", "♥ like");
    like.type = "button";
    like.setAttribute("aria-pressed", String(isLiked(item.item_id)));
    like.addEventListener("click", () => react(item, isLiked(item.item_id) ? "undo" : "like"));
    const nope = el("button", "nope", "not for me");
    nope.type = "button";
    nope.addEventListener("click", () => react(item, "nope"));
    actions.append(like, nope);
    body.append(actions);
  }
  div.append(play, body);
  return div;
}

function show(sectionId, gridId, items, options) {
  const visible = items.filter((it) => !isDismissed(it.item_id));
  $(gridId).replaceChildren(...visible.map((it) => card(it, options)));
  $(sectionId).hidden = visible.length === 0;
}

// ------------------------------------------------------------------ trailer player
function openPlayer(item) {
  const video = $("player-video");
  const poster = $("player-poster");
  $("player-title").textContent = item.title;
  $("player-note").textContent = "";
  poster.hidden = true;
  video.hidden = false;
  video.poster = item.poster_url || "";
  video.onerror = () => { // 404: the title has no trailer; show its poster instead
    video.hidden = true;
    video.removeAttribute("src");
    if (item.poster_url) { poster.src = item.poster_url; poster.alt = item.title; poster.hidden = false; }
    $("player-note").textContent = "No trailer for this title.";
  };
  video.src = `/media/trailers/${item.item_id}`;
  $("player").showModal();
  video.play().catch(() => {}); // a failed load is reported through onerror
}

function closePlayer() {
  const video = $("player-video");
  video.onerror = null;
  video.pause();
  video.removeAttribute("src");
  video.load();
  if ($("player").open) $("player").close();
}

// ------------------------------------------------------------------ rows
async function loadBrowse() {
  const [popular, fresh] = await Promise.all([
    getJSON(`/items/popular?k=${K}`),
    getJSON(`/items/new?k=${K}`),
  ]);
  show("popular-section", "popular", popular.items);
  show("new-section", "new", fresh.items);
}

function anchorItem() { // the most recent like: this browser's, else the user's history
  const mine = state.session.liked;
  return mine.length ? mine[mine.length - 1] : state.history[0];
}

async function loadBecause() {
  const anchor = anchorItem();
  const container = $("because");
  if (!anchor) { container.replaceChildren(); return; }
  if (container.dataset.anchor === String(anchor.item_id)) { // same rows: only drop turned-down
    container.querySelectorAll(".card").forEach((c) => { if (isDismissed(Number(c.dataset.itemId))) c.remove(); });
    return;
  }
  container.dataset.anchor = anchor.item_id;
  const liked = new Set(likedIds());
  const wanted = Object.keys(SIMILAR).filter((m) => state.modalities.includes(m));
  const rows = await Promise.all(wanted.map(async (m) => {
    try {
      const res = await getJSON(`/items/${anchor.item_id}/similar?modality=${m}&k=${K}`);
      return [m, res.items.filter((it) => !liked.has(it.item_id))];
    } catch (err) {
      if (err.status === 409) return [m, []]; // no vector of this kind for the item
      throw err;
    }
  }));
  const sections = [];
  for (const [m, items] of rows) {
    const section = el("section", "because");
    section.dataset.modality = m;
    const h2 = el("h2", "", `Because you watched ${anchor.title} `);
    h2.append(el("span", `badge kind-${m}`, `similar ${SIMILAR[m]}`));
    const strip = el("div", "strip");
    // the row's own modality is the reason these items are here
    const shown = items.filter((it) => !isDismissed(it.item_id));
    strip.append(...shown.map((it) => card({ ...it, reason_kind: m })));
    section.append(h2, strip);
    if (shown.length) sections.push(section);
  }
  container.replaceChildren(...sections);
}

async function loadRecs() {
  const text = $("text").value.trim();
  const history = likedIds();
  const call = ++state.recsCall;
  if (!state.user && !text && !history.length) { $("recs-section").hidden = true; return; }
  const recs = await getJSON("/recommendations", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      history: history.slice(-1000),
      seen: [...state.seen, ...state.session.dismissed].slice(-1000),
      text: text || null,
      k: K,
      diversity: Number($("diversity").value),
    }),
  });
  if (call !== state.recsCall) return; // a newer request is on its way
  let heading = state.user ? `Recommended for user ${state.user}` : "Recommended for you";
  if (text) heading += state.user || history.length ? `, tuned to “${text}”` : `: “${text}”`;
  $("recs-heading").textContent = heading;
  show("recs-section", "recs", recs.items);
}

async function refresh() {
  clearError();
  try {
    await Promise.all([loadRecs(), loadBecause()]);
  } catch (err) {
    showError(err);
  }
}

async function pickUser() {
  state.user = $("user").value;
  state.history = [];
  state.seen = [];
  delete $("because").dataset.anchor;
  loadSession();
  try {
    if (state.user) {
      const page = await getJSON(`/users/${state.user}/history`);
      state.history = page.items;
      state.seen = page.seen.filter((id) => !page.items.some((it) => it.item_id === id));
    }
    show("history-section", "history", state.history.slice(0, K), { reactions: false });
  } catch (err) {
    showError(err);
    return;
  }
  await refresh();
}

async function loadUsers() {
  try {
    const { users } = await getJSON("/users");
    for (const u of users) {
      const opt = document.createElement("option");
      opt.value = u.user_id;
      opt.textContent = `user ${u.user_id} (${u.n_liked} liked)`;
      $("user").append(opt);
    }
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) throw err;
    // user pages are private unless the server sets RECSYS_PUBLIC_USER_PAGES (`make run` does)
    $("user").disabled = true;
    $("status").textContent = "User pages are private on this server: describe what you like.";
  }
}

async function init() {
  $("user").addEventListener("change", pickUser); // a typed mood stays: it refines the user
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  $("forget").addEventListener("click", () => {
    state.session = { liked: [], dismissed: [] };
    saveSession();
    delete $("because").dataset.anchor;
    loadBrowse().then(refresh);
  });
  $("player-close").addEventListener("click", closePlayer);
  $("player").addEventListener("close", closePlayer);
  $("player").addEventListener("click", (e) => { if (e.target === $("player")) closePlayer(); });
  loadSession();
  try {
    const v = await getJSON("/version");
    state.modalities = v.modalities;
    $("version").textContent = `model ${v.model_version} · index ${v.index_version}`;
    await Promise.all([loadUsers(), loadBrowse()]);
    await refresh(); // this browser's earlier likes already make a list
  } catch (err) {
    showError(err, "Service not ready");
  }
}

init();
