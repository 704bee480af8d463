// stockwatch dashboard: follows /events and keeps the page current. Rows
// of the page are updated in place at once; then the page's main part is
// read again (at most every 300 ms) unless the user is typing in it.
(function () {
  "use strict";
  var READ_AGAIN_MS = 300;
  var pending = null;
  var waiting = false;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.title = t.textContent;
        t.textContent = d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
      }
    });
  }

  function typing() {
    var main = document.getElementById("live");
    var a = document.activeElement;
    if (a && main.contains(a) && (a.tagName === "INPUT" || a.tagName === "TEXTAREA")) return true;
    return Array.prototype.some.call(main.querySelectorAll("input[name=note]"), function (i) { return i.value !== ""; });
  }

  function readAgain() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (typing()) { waiting = true; return; }
      waiting = false;
      fetch(location.href, { headers: { "X-Stockwatch-Live": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["live", "totals"].forEach(function (id) {
            var fresh = doc.getElementById(id), old = document.getElementById(id);
            if (fresh && old) { old.replaceWith(fresh); localTimes(fresh); }
          });
          var trouble = doc.querySelector(".trouble"), oldTrouble = document.querySelector("header .trouble");
          if (oldTrouble && !trouble) oldTrouble.remove();
          if (trouble && !oldTrouble) document.querySelector("header").appendChild(trouble);
          document.dispatchEvent(new CustomEvent("stockwatch:updated"));
        })
        .catch(function () {});
    }, READ_AGAIN_MS);
  }

  function updateRows(data) {
    var told = JSON.parse(data);
    told.rows.forEach(function (r) {
      document.querySelectorAll("tr[data-item]").forEach(function (tr) {
        if (tr.dataset.store !== r.store || tr.dataset.item !== r.item) return;
        if (r.count === null) { tr.classList.add("gone"); return; }
        tr.querySelector(".count").textContent = r.count;
        var state = tr.querySelector(".state");
        var word = r.level, glyph = word === "OUT" ? "✖ " : word === "LOW" ? "▲ " : "";
        if (state) state.textContent = glyph + word;
        tr.className = word.toLowerCase();
      });
    });
  }

  function follow() {
    if (!window.EventSource) return;
    var source = new EventSource("/events");
    var state = function (text, cls) {
      var s = document.getElementById("live-state");
      if (s) { s.textContent = text; s.className = cls; }
    };
    source.addEventListener("hello", function (e) {
      var main = document.getElementById("live");
      if (String(JSON.parse(e.data).version) !== main.dataset.version) readAgain();
    });
    source.addEventListener("stock", function (e) { updateRows(e.data); readAgain(); });
    source.addEventListener("alerts", readAgain);
    source.addEventListener("resync", readAgain);
    source.addEventListener("status", readAgain);
    source.addEventListener("bye", function () { state("◌ server stopped", "loading"); });
    source.onerror = function () { state("◌ reconnecting", "loading"); };
  }

  function dropping() {
    var drop = document.getElementById("drop");
    if (!drop) return;
    var input = drop.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (n) {
      drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; document.getElementById("upload").submit(); }
    });
  }

  document.addEventListener("focusout", function () { if (waiting) readAgain(); });
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    dropping();
    follow();
  });
})();
