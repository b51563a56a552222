// Journey maps: show the quote of the experience mark under the pointer or keyboard focus in
// the map's caption (a polite live region), so it can be read without a tooltip.
(function () {
  "use strict";
  var region = document.getElementById("map-quote");
  if (!region) {
    return;
  }
  function show(event) {
    var mark = event.target.closest ? event.target.closest(".experience") : null;
    if (mark && mark.getAttribute("data-quote")) {
      region.textContent = mark.getAttribute("data-quote");
    }
  }
  document.querySelectorAll(".journey-map .experience").forEach(function (mark) {
    mark.addEventListener("focus", show);
    mark.addEventListener("mouseover", show);
  });
})();
