// Voices documents: a transcript follows its recording, and selecting raw text fills in the
// "add a missed identifier" form. Positions are Unicode code points, as the server counts them.
(function () {
  "use strict";

  // --- Recording and transcript -------------------------------------------------------------
  var player = document.getElementById("voices-player");
  var transcript = document.getElementById("voices-transcript");
  if (player && transcript) {
    transcript.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-seek]");
      if (!button) { return; }
      var seconds = parseFloat(button.getAttribute("data-seek"));
      if (isNaN(seconds)) { return; }
      player.currentTime = seconds;
      var playing = player.play();
      if (playing && playing.catch) { playing.catch(function () { /* autoplay refused */ }); }
    });
    var turns = Array.prototype.slice.call(transcript.querySelectorAll("li[data-start]"));
    var current = null;
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime;
      var found = null;
      for (var i = 0; i < turns.length; i += 1) {
        var start = parseFloat(turns[i].getAttribute("data-start"));
        var endText = turns[i].getAttribute("data-end");
        var end = endText === null ? Infinity : parseFloat(endText);
        if (now >= start && now < end) { found = turns[i]; }
      }
      if (found === current) { return; }
      if (current) { current.removeAttribute("aria-current"); current.classList.remove("playing"); }
      if (found) { found.setAttribute("aria-current", "true"); found.classList.add("playing"); }
      current = found;
    });
  }

  // --- Selecting text to add an identifier -------------------------------------------------
  var raw = document.getElementById("raw-text");
  var start = document.getElementById("add-start");
  var end = document.getElementById("add-end");
  var words = document.getElementById("add-words");
  var said = document.getElementById("selection");
  if (!raw || !start || !end) { return; }

  function codePoints(text) { return Array.from(text).length; }

  function offsetOf(node, offset) {
    var range = document.createRange();
    range.setStart(raw, 0);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }

  function onSelect() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return; }
    var range = selection.getRangeAt(0);
    if (!raw.contains(range.startContainer) || !raw.contains(range.endContainer)) { return; }
    var text = range.toString();
    var a = offsetOf(range.startContainer, range.startOffset);
    var b = offsetOf(range.endContainer, range.endOffset);
    // Leave out spaces caught at either end of the selection.
    var lead = codePoints(text) - codePoints(text.replace(/^\s+/, ""));
    var trail = codePoints(text) - codePoints(text.replace(/\s+$/, ""));
    a += lead;
    b -= trail;
    if (b <= a) { return; }
    start.value = String(a);
    end.value = String(b);
    if (words) { words.value = ""; }
    if (said) { said.textContent = "Selected “" + text.trim() + "” (positions " + a + "–" + b + "). Choose its kind and press Add."; }
  }

  raw.addEventListener("mouseup", onSelect);
  raw.addEventListener("keyup", onSelect);
})();
