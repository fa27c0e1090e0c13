// The what-if page's few lines of its own: the effect slider and its number field move together,
// the break-even mark sits on the slider, and the break-even text follows the levers.
(function () {
  "use strict";
  function mirror(event) {
    var source = event.target;
    var other = source.dataset && source.dataset.mirror && document.getElementById(source.dataset.mirror);
    if (other && other.value !== source.value) {
      other.value = source.type === "range" ? source.value : source.value.replace(",", ".");
      if (source.type === "range") {
        other.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
  }
  function placeTick() {
    var text = document.querySelector("#breakeven .breakeven-text");
    var tick = document.getElementById("breakeven-tick");
    var range = document.getElementById("f-effect-range");
    if (!tick || !range) { return; }
    var share = text && text.dataset.share;
    if (share === undefined || share === null || share === "") { tick.hidden = true; return; }
    var low = parseFloat(range.min), high = parseFloat(range.max);
    tick.style.left = (100 * (parseFloat(share) - low) / (high - low)) + "%";
    tick.title = text.textContent;
    tick.hidden = false;
  }
  // A lever away from the files' value is marked at once, with the files' value shown below it.
  function same(text, value) {
    var a = String(text).trim().replace(",", "."), b = String(value).trim();
    if (a === b) { return true; }
    return a !== "" && b !== "" && !isNaN(Number(a)) && Number(a) === Number(b);
  }
  function mark(event) {
    var lever = event.target.closest && event.target.closest(".lever");
    if (!lever || lever.dataset.default === undefined) { return; }
    var field = lever.querySelector("select, input[type=text]");
    var moved = !same(field.value, lever.dataset.default);
    lever.classList.toggle("moved", moved);
    var was = lever.querySelector(".was");
    if (was) { was.hidden = !moved; }
  }
  document.addEventListener("input", mirror);
  document.addEventListener("input", mark);
  document.addEventListener("change", mark);
  // The server's reading decides what is moved ("2.025" on the Danish page is 2025, the files' year):
  // each answer says it beside each field.
  document.addEventListener("htmx:afterSettle", function (event) {
    // Only the answer to a lever move (not a simulation's progress, nor the break-even's refresh):
    // a field typed in since keeps its mark until its own answer comes.
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (path.split("?")[0] !== "/whatif") { return; }
    document.querySelectorAll(".lever .error[data-moved]").forEach(function (said) {
      var lever = said.closest(".lever");
      var moved = said.dataset.moved === "1";
      lever.classList.toggle("moved", moved);
      var was = lever.querySelector(".was");
      if (was) { was.hidden = !moved; }
    });
  });
  // Once per lever change (not once per swapped piece: the messages beside the fields
  // and the language links come in the same answer).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "levers" && event.detail.successful) {
      // The break-even effect depends on every lever but the effect size itself.
      document.body.dispatchEvent(new Event("refresh-breakeven"));
    }
  });
  // A field left after typing fires "change" for the state just asked for: not asked again.
  // (Its answer would swap the language links under a click on one of them, losing the click.)
  // Dropped at htmx:confirm, before hx-sync would abort the request already on its way.
  var lastSent = null, lastAnswered = null;
  function formOf(event) {
    var elt = event.detail.elt;
    return elt && elt.id === "levers" ? new URLSearchParams(new FormData(elt)).toString() : null;
  }
  document.addEventListener("htmx:confirm", function (event) {
    var sent = formOf(event);
    if (sent !== null && sent === lastSent) { event.preventDefault(); }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var sent = formOf(event);
    if (sent === null) { return; }
    lastSent = sent;
    event.detail.xhr.trappesimSent = sent;
  });
  // A state whose answer failed may be asked again; one whose request was replaced by the
  // same state's (htmx aborts the older request first) is still on its way.
  function failed(event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.trappesimSent === lastSent) { lastSent = null; }
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.failed === true) { failed(event); }
    if (event.detail.successful && event.detail.xhr && event.detail.xhr.trappesimSent) {
      lastAnswered = event.detail.xhr.trappesimSent;
    }
  });
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
  // A language link clicked while a typed value waits for its request (the fields send a quarter
  // second after the last key): that value is sent first, read in the page's own language, and the
  // link its answer brings is followed, so the value is not lost.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#lang a[data-lang]");
    var form = document.getElementById("levers");
    if (!link || !form || typeof htmx === "undefined") { return; }
    var now = new URLSearchParams(new FormData(form)).toString();
    if (now === lastAnswered) { return; }  // the links already carry this state
    event.preventDefault();
    var want = link.dataset.lang, gone = false;
    function follow(url) {
      if (gone) { return; }
      gone = true;
      window.location.href = url || link.href;
    }
    document.addEventListener("htmx:afterRequest", function answered(e) {
      if (!e.detail.elt || e.detail.elt.id !== "levers") { return; }
      document.removeEventListener("htmx:afterRequest", answered);
      // The answer names the page of its state (HX-Replace-Url): that page, in the language asked for.
      var page = e.detail.successful && e.detail.xhr.getResponseHeader("HX-Replace-Url");
      if (!page) { follow(); return; }
      var url = new URL(page, window.location.href);
      url.searchParams.set("lang", want);
      follow(url.toString());
    });
    if (now !== lastSent) { htmx.trigger(form, "change"); }  // else its request is on its way
    setTimeout(follow, 10000);  // no answer at all: the link as it stands
  });
  document.addEventListener("htmx:afterSwap", placeTick);
  document.addEventListener("DOMContentLoaded", placeTick);
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("levers");  // the page's links are those of its first state
    if (form) { lastAnswered = new URLSearchParams(new FormData(form)).toString(); }
  });
})();
