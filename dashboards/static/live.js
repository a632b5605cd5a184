// Live mode of an activity listing: the "Go live" button opens the live
// activity stream (Server-Sent Events) with the listing's filters and puts
// each new entry at the top of the list, built with textContent so that
// no string from an entry is ever read as HTML. The browser reconnects by
// itself after a dropped connection, sending the last id it received, so
// the stream resumes without a gap or a repeat.
(function () {
  "use strict";

  var button = document.getElementById("live-toggle");
  var status = document.getElementById("live-status");
  var list = document.getElementById("entries");
  if (!button || !status || !list) {
    return;
  }
  var zone = button.getAttribute("data-zone") || "UTC";
  var source = null;
  var received = 0;

  var local;
  try {
    local = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short"
    });
  } catch (e) {
    local = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
  }

  // shown writes a time as the server's pages do: Mon 2 Jan 2006, 15:04:05 MST.
  function shown(at) {
    var p = {};
    local.formatToParts(at).forEach(function (part) { p[part.type] = part.value; });
    if (!p.weekday) {
      return local.format(at);
    }
    return p.weekday + " " + p.day + " " + p.month + " " + p.year + ", " + p.hour + ":" + p.minute + ":" + p.second + " " + (p.timeZoneName || "");
  }

  function say(text) {
    status.textContent = text;
  }

  function row(entry) {
    var li = document.createElement("li");
    li.className = "entry new" + (entry.outcome === "failure" ? " failed" : "");
    var line = document.createElement("div");
    line.className = "line";

    var at = new Date(entry.occurred_at);
    var time = document.createElement("time");
    var utc = isNaN(at) ? String(entry.occurred_at) : at.toISOString();
    time.setAttribute("datetime", utc);
    time.setAttribute("title", utc + " (UTC)");
    time.textContent = isNaN(at) ? utc : shown(at);
    line.appendChild(time);
    line.appendChild(document.createTextNode(" "));

    var link = document.createElement("a");
    link.className = "summary";
    link.href = "/activity/" + encodeURIComponent(entry.id);
    link.textContent = entry.summary || entry.action;
    line.appendChild(link);
    line.appendChild(document.createTextNode(" "));

    var action = document.createElement("code");
    action.className = "action";
    action.textContent = entry.action;
    line.appendChild(action);
    if (entry.outcome === "failure") {
      var badge = document.createElement("strong");
      badge.className = "badge bad";
      badge.textContent = "failed";
      line.appendChild(document.createTextNode(" "));
      line.appendChild(badge);
    }
    li.appendChild(line);
    return li;
  }

  function show(event) {
    var entry;
    try {
      entry = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!entry || !entry.id || document.getElementById("live-" + entry.id)) {
      return;
    }
    var empty = list.querySelector("li.empty");
    if (empty) {
      empty.remove();
    }
    var li = row(entry);
    li.id = "live-" + entry.id;
    list.insertBefore(li, list.firstChild);
    received += 1;
    say("Live: " + received + (received === 1 ? " new entry" : " new entries") + " since you went live.");
  }

  function stop(text) {
    if (source) {
      source.close();
      source = null;
    }
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Go live";
    say(text);
  }

  function start() {
    source = new EventSource(button.getAttribute("data-stream"));
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Pause live";
    say("Connecting…");
    source.addEventListener("open", function () {
      say(received ? "Live again: new entries appear at the top." : "Live: new entries appear at the top as they happen.");
    });
    source.addEventListener("activity", show);
    source.addEventListener("error", function () {
      if (source && source.readyState === EventSource.CLOSED) {
        stop("Live mode stopped: the stream was refused (too many open in this workspace, or your session ended). Reload the page to try again.");
      } else {
        say("Connection lost; reconnecting…");
      }
    });
  }

  button.addEventListener("click", function () {
    if (source) {
      stop("Paused. Entries shown stay; go live again to follow new ones.");
    } else {
      start();
    }
  });
})();
