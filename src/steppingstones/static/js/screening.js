// Keyboard screening: I include, E exclude, M maybe, U undo; ignored while typing.
(function () {
  "use strict";
  var form = document.getElementById("decision-form");
  if (!form) { return; }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT")) { return; }
    var key = event.key.toLowerCase();
    var decisions = { i: "include", e: "exclude", m: "maybe" };
    if (decisions[key]) {
      var button = form.querySelector('button[value="' + decisions[key] + '"]');
      if (button) { event.preventDefault(); button.click(); }
    } else if (key === "u") {
      var undo = document.getElementById("undo");
      if (undo) { event.preventDefault(); undo.click(); }
    }
  });
})();
