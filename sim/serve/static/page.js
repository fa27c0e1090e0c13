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
  document.addEventListener("input", mirror);
  // Once per lever change (not once per swapped piece: the messages beside the fields
  // and the language links come in the same answer).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "levers" && event.detail.successful) {
      // The break-even effect depends on every lever but the effect size itself.
      document.body.dispatchEvent(new Event("refresh-breakeven"));
    }
  });
  document.addEventListener("htmx:afterSwap", placeTick);
  document.addEventListener("DOMContentLoaded", placeTick);
})();
