// annotate serve: the keyboard flow and a few layout touches. No framework; nothing from item data runs.
(function () {
  "use strict";

  // Layout values the page carries as data attributes (the CSP allows no inline styles).
  function applyLayout(root) {
    root.querySelectorAll("[data-task-width]").forEach(function (el) {
      el.style.maxWidth = el.getAttribute("data-task-width") + "px";
    });
    root.querySelectorAll(".c-image[data-ratio]").forEach(function (el) {
      var ratio = el.getAttribute("data-ratio");
      if (ratio) { el.style.aspectRatio = ratio; }
    });
  }

  function items(batch) { return Array.prototype.slice.call(batch.querySelectorAll(".item[data-index]")); }

  function setCurrent(batch, index) {
    var list = items(batch);
    if (!list.length) { return; }
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el, i) { el.classList.toggle("current", i === index); });
    batch.setAttribute("data-current", String(index));
    var rect = list[index].getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) { list[index].scrollIntoView({ block: "nearest" }); }
  }

  function current(batch) { return parseInt(batch.getAttribute("data-current") || "0", 10); }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(radio|checkbox|submit|button)$/.test(target.type));
  }

  function onKey(batch, event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var list = items(batch);
    var item = list[current(batch)];
    if (event.key === "Enter" && !typing(event.target) && event.target.tagName !== "BUTTON") {
      if (batch.tagName === "FORM") { event.preventDefault(); batch.requestSubmit(); }
      return;
    }
    if (typing(event.target) || !item) { return; }
    if (/^[1-9]$/.test(event.key) && batch.getAttribute("data-hotkeys") === "1") {
      var group = item.querySelector("fieldset[data-hotkeys]");
      if (!group) { return; }
      var inputs = group.querySelectorAll("input");
      var input = inputs[parseInt(event.key, 10) - 1];
      if (!input) { return; }
      event.preventDefault();
      if (input.type === "radio") {
        input.checked = true;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        if (current(batch) < list.length - 1) { setCurrent(batch, current(batch) + 1); }
      } else {
        input.checked = !input.checked;
      }
    } else if (event.key === "ArrowDown" || event.key === "j") {
      event.preventDefault(); setCurrent(batch, current(batch) + 1);
    } else if (event.key === "ArrowUp" || event.key === "k") {
      event.preventDefault(); setCurrent(batch, current(batch) - 1);
    }
  }

  function initBatch(batch) {
    if (!items(batch).length) { return; }
    setCurrent(batch, 0);
    batch.addEventListener("click", function (event) {
      var item = event.target.closest && event.target.closest(".item[data-index]");
      if (item) { setCurrent(batch, parseInt(item.getAttribute("data-index"), 10)); }
    });
    batch.addEventListener("focusin", function (event) {
      var item = event.target.closest && event.target.closest(".item[data-index]");
      if (item) { setCurrent(batch, parseInt(item.getAttribute("data-index"), 10)); }
    });
  }

  function activeBatch() { return document.querySelector("form#batch") || document.querySelector(".preview-form"); }

  function countdown() {
    document.querySelectorAll(".timer[data-seconds]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-seconds"), 10);
      var start = Date.now();
      setInterval(function () {
        var now = Math.max(0, left - Math.floor((Date.now() - start) / 1000));
        el.textContent = now + " s";
      }, 1000);
    });
  }

  // The preview: re-render as the spec is typed, and poll a spec file given to `annotate serve --spec`.
  function livePreview() {
    var form = document.getElementById("preview-form");
    var target = document.getElementById("preview");
    if (!form || !target) { return; }
    function show(html) {
      target.innerHTML = html;  // our own server's rendering of the spec, escaped there
      applyLayout(target);
      var batch = target.querySelector(".preview-form");
      if (batch) { initBatch(batch); }
    }
    var timer = null;
    var textarea = document.getElementById("spec");
    if (textarea) {
      textarea.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var data = new FormData();
          data.append("csrf", form.elements.csrf.value);
          data.append("spec", textarea.value);
          fetch("/requester/preview?fragment=1", { method: "POST", body: data, credentials: "same-origin" })
            .then(function (r) { return r.text(); }).then(show);
        }, 300);
      });
    }
    var live = target.getAttribute("data-live");
    if (live) {
      setInterval(function () {
        fetch(live, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(show);
      }, 2000);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyLayout(document);
    var batch = activeBatch();
    if (batch) { initBatch(batch); }
    document.addEventListener("keydown", function (event) {
      var b = activeBatch();
      if (b) { onKey(b, event); }
    });
    countdown();
    livePreview();
    if (batch && batch.tagName === "FORM") { document.activeElement && document.activeElement.blur && document.activeElement.blur(); }
  });
})();
