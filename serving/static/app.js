// Demo page: pick a user or describe a mood; shows history and recommendations as posters.
const $ = (id) => document.getElementById(id);

async function getJSON(url, options) {
  const res = await fetch(url, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ? JSON.stringify(body.detail) : res.statusText);
  return body;
}

function card(item, withReason) {
  const div = document.createElement("div");
  div.className = "card";
  div.dataset.itemId = item.item_id;
  const img = document.createElement("img");
  img.alt = item.title;
  img.loading = "eager";
  if (item.poster_url) img.src = item.poster_url;
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = item.title;
  div.append(img, title);
  if (withReason) {
    const reason = document.createElement("div");
    reason.className = "reason";
    reason.textContent = item.reason;
    div.append(reason);
  }
  return div;
}

function show(sectionId, gridId, items, withReason) {
  $(gridId).replaceChildren(...items.map((it) => card(it, withReason)));
  $(sectionId).hidden = items.length === 0;
}

async function recommend() {
  const user = $("user").value;
  const text = $("text").value.trim();
  const diversity = $("diversity").value;
  $("status").textContent = "";
  try {
    if (user) {
      const [hist, recs] = await Promise.all([
        getJSON(`/users/${user}/history`),
        getJSON(`/users/${user}/recommendations?k=12&diversity=${diversity}`),
      ]);
      show("history-section", "history", hist.items.slice(0, 12), false);
      show("recs-section", "recs", recs.items, true);
    } else if (text) {
      const recs = await getJSON("/recommendations", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, k: 12, diversity: Number(diversity) }),
      });
      show("history-section", "history", [], false);
      show("recs-section", "recs", recs.items, true);
    } else {
      $("status").textContent = "Pick a user or type what you like.";
    }
  } catch (err) {
    $("status").textContent = `Error: ${err.message}`;
  }
}

async function init() {
  try {
    const { users } = await getJSON("/users");
    for (const u of users) {
      const opt = document.createElement("option");
      opt.value = u.user_id;
      opt.textContent = `user ${u.user_id} (${u.n_liked} liked)`;
      $("user").append(opt);
    }
    const v = await getJSON("/version");
    $("version").textContent = `model ${v.model_version} · index ${v.index_version}`;
  } catch (err) {
    $("status").textContent = `Service not ready: ${err.message}`;
  }
  $("user").addEventListener("change", () => { $("text").value = ""; recommend(); });
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); recommend(); });
}

init();
