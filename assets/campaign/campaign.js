// The campaign page without a reload: times in the viewer's own zone, and a fresh copy
// of the page swapped in whenever cutover says something changed. Without this script
// the page still works (UTC times, reload to update).
"use strict";

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const format = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});

function localize(root) {
  for (const el of root.querySelectorAll("time[data-local]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) {
      el.textContent = format.format(at);
      el.title = "In your time zone (" + zone + ")";
    }
  }
  for (const el of root.querySelectorAll("caption.hint")) {
    el.textContent = "Times in your time zone (" + zone + ").";
  }
}

let fetching = false;
let again = false;

async function refresh() {
  if (fetching) {
    again = true;
    return;
  }
  fetching = true;
  try {
    const answer = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (answer.ok) {
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      const next = fresh.getElementById("campaign");
      const main = document.getElementById("campaign");
      if (next && main) {
        main.replaceChildren(...next.childNodes);
        localize(main);
        main.dataset.updated = String(Date.now());
      }
    } else if (answer.status === 401) {
      location.reload();
    }
  } finally {
    fetching = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function follow(main) {
  const source = main.dataset.events;
  if (!source || !("EventSource" in window)) {
    return;
  }
  const events = new EventSource(source);
  events.addEventListener("change", refresh);
  events.addEventListener("signed-out", () => {
    events.close();
    location.reload();
  });
}

const main = document.getElementById("campaign");
if (main) {
  localize(main);
  follow(main);
}
