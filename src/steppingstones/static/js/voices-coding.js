// The coding page: select text (mouse or keyboard), apply codes, paint codings, list them.
// Positions are Unicode code points into the source's text, end exclusive; the server renders
// one <p data-o="offset"> per line, so a DOM position maps to a code point by counting the
// paragraph's code points (JS strings count UTF-16 units: astral characters are two).
(function () {
  "use strict";
  var root = document.getElementById("coding");
  var dataNode = document.getElementById("coding-data");
  if (!root || !dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var codes = {};
  data.codes.forEach(function (code) { codes[code.id] = code; });

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) { throw new Error(json.error || ("the server answered " + response.status)); }
        return json;
      });
    });
  }
  function urlFor(template, id) { return template.replace(/\/0\/([^/]*\/?)$/, "/" + id + "/$1"); }

  if (data.media === "image") { imagePage(); return; }
  if (data.media !== "text") { mediaPage(); return; }

  // ------------------------------------------------------------------ text and positions
  var textEl = document.getElementById("coding-text");
  var statusEl = document.getElementById("selection-status");
  var hereEl = document.getElementById("codes-here");
  var paras = Array.prototype.slice.call(textEl.querySelectorAll("p[data-o]"));
  var starts = paras.map(function (p) { return Number(p.getAttribute("data-o")); });
  var info = []; // per paragraph, lazily: {text, cpLength, astral}
  var SURROGATE = /[\uD800-\uDBFF]/;

  function para(i) {
    if (!info[i]) {
      var node = paras[i].firstChild;
      var text = node && node.nodeType === 3 ? node.data : "";
      var astral = SURROGATE.test(text);
      info[i] = { text: text, astral: astral, cpLength: astral ? Array.from(text).length : text.length };
    }
    return info[i];
  }
  function indexAt(cp) { // the last paragraph starting at or before cp
    var lo = 0, hi = starts.length - 1, found = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= cp) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
  function unitsFor(i, localCp) { // code points into paragraph i -> UTF-16 units
    var p = para(i);
    if (!p.astral) { return Math.min(localCp, p.text.length); }
    var units = 0, count = 0;
    while (count < localCp && units < p.text.length) {
      var c = p.text.charCodeAt(units);
      units += (c >= 0xD800 && c <= 0xDBFF) ? 2 : 1;
      count += 1;
    }
    return units;
  }
  function cpFor(i, units) { // UTF-16 units into paragraph i -> code points
    var p = para(i);
    if (!p.astral) { return Math.min(units, p.text.length); }
    return Array.from(p.text.slice(0, units)).length;
  }
  function paraEnd(i) { return starts[i] + para(i).cpLength; }
  function clampToText(cp, forward) { // move a position out of the gaps between paragraphs
    var i = indexAt(cp);
    if (cp < starts[0]) { return starts[0]; }
    if (cp <= paraEnd(i)) { return cp; }
    if (forward && i + 1 < starts.length) { return starts[i + 1]; }
    return paraEnd(i);
  }
  function domPoint(cp) {
    var i = indexAt(cp);
    var local = Math.max(0, Math.min(cp - starts[i], para(i).cpLength));
    var node = paras[i].firstChild;
    if (!node || node.nodeType !== 3) { return { node: paras[i], offset: 0 }; }
    return { node: node, offset: unitsFor(i, local) };
  }
  function makeRange(start, end) {
    var a = domPoint(start), b = domPoint(end);
    var range = document.createRange();
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return range;
  }
  function cpOf(node, offset) { // a DOM position inside the text -> code point, or null
    if (!textEl.contains(node)) { return null; }
    if (node === textEl) {
      if (offset >= textEl.childNodes.length) { return paras.length ? paraEnd(paras.length - 1) : 0; }
      var child = textEl.childNodes[offset];
      var k = paras.indexOf(child);
      return k >= 0 ? starts[k] : null;
    }
    var p = node.nodeType === 1 ? node.closest("p[data-o]") : node.parentNode.closest("p[data-o]");
    if (!p) { return null; }
    var i = paras.indexOf(p);
    if (node.nodeType === 3 && node === p.firstChild) { return starts[i] + cpFor(i, offset); }
    if (node === p) { return offset === 0 ? starts[i] : paraEnd(i); }
    return paraEnd(i); // inside the stripes
  }
  function textBetween(start, end) {
    var out = [];
    for (var i = indexAt(start); i < paras.length && starts[i] < end; i++) {
      var from = Math.max(0, start - starts[i]), to = Math.min(para(i).cpLength, end - starts[i]);
      if (to > from) { out.push(para(i).text.slice(unitsFor(i, from), unitsFor(i, to))); }
    }
    return out.join("\n");
  }
  function shorten(text, size) {
    text = text.replace(/\s+/g, " ").trim();
    return text.length > size ? text.slice(0, size - 1) + "…" : text;
  }

  // ---------------------------------------------------------------------- codings model
  var codings = data.codings.map(function (row) {
    return { id: row[0], code: row[1], start: row[2], end: row[3], coder: row[4] };
  });
  var byCode = {};
  function regroup() {
    byCode = {};
    codings.sort(function (a, b) { return a.start - b.start || a.end - b.end || a.id - b.id; });
    codings.forEach(function (c) { (byCode[c.code] = byCode[c.code] || []).push(c); });
  }
  regroup();
  function codesAt(cp) {
    var found = {};
    for (var k = 0; k < codings.length && codings[k].start <= cp; k++) {
      if (codings[k].end > cp) { found[codings[k].code] = true; }
    }
    return Object.keys(found).map(Number);
  }

  // ------------------------------------------------------------------------- painting
  var highlights = typeof CSS !== "undefined" && CSS.highlights && typeof Highlight === "function";
  var sheet = null;
  if (highlights && "adoptedStyleSheets" in document) {
    sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  } else { highlights = false; }
  function rgba(hex, alpha) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16 & 255) + "," + (v >> 8 & 255) + "," + (v & 255) + "," + alpha + ")";
  }
  var styled = {};
  function paintCode(codeId) {
    var list = byCode[codeId] || [];
    if (highlights) {
      var name = "code-" + codeId;
      if (!styled[codeId] && codes[codeId]) {
        sheet.insertRule("::highlight(" + name + ") { background-color: " + rgba(codes[codeId].colour, 0.3) +
          "; text-decoration: underline " + codes[codeId].colour + " 2px; text-underline-offset: 3px; }", sheet.cssRules.length);
        styled[codeId] = true;
      }
      if (!list.length) { CSS.highlights.delete(name); return; }
      var highlight = new Highlight();
      list.forEach(function (c) { highlight.add(makeRange(c.start, c.end)); });
      CSS.highlights.set(name, highlight);
    }
  }
  function drawStripes(i, codeIds) {
    var old = paras[i].querySelector(".stripes");
    if (old) { old.remove(); }
    paras[i].classList.toggle("coded-fallback", !highlights && codeIds.length > 0);
    if (!codeIds.length) { return; }
    var holder = document.createElement("span");
    holder.className = "stripes";
    holder.setAttribute("aria-hidden", "true");
    codeIds.forEach(function (codeId) {
      var code = codes[codeId];
      if (!code) { return; }
      var bar = document.createElement("span");
      bar.className = "stripe";
      bar.title = code.name;
      bar.style.backgroundColor = code.colour;
      holder.appendChild(bar);
    });
    paras[i].appendChild(holder);
  }
  function paintStripes(touched) {
    // Coding stripes: a bar per code beside each paragraph it covers. With ``touched`` (a
    // coding added or removed) only that coding's paragraphs are redrawn.
    var perPara = {};
    var from = touched ? indexAt(touched.start) : 0;
    var to = touched ? indexAt(Math.max(touched.start, touched.end - 1)) : paras.length - 1;
    codings.forEach(function (c) {
      if (touched && (c.end <= starts[from] || c.start >= paraEnd(to))) { return; }
      for (var i = Math.max(from, indexAt(c.start)); i <= to && i < paras.length && starts[i] < c.end; i++) {
        (perPara[i] = perPara[i] || {})[c.code] = true;
      }
    });
    for (var i = from; i <= to; i++) {
      if (touched || perPara[i] || paras[i].lastChild !== paras[i].firstChild) {
        drawStripes(i, Object.keys(perPara[i] || {}).map(Number));
      }
    }
  }
  function paintAll() {
    Object.keys(codes).forEach(function (id) { paintCode(Number(id)); });
    paintStripes();
  }
  paintAll();

  // ------------------------------------------------------------------------ selection
  var selection = null; // {start, end}
  var keyboardMode = false, caret = starts.length ? starts[0] : 0, anchor = caret;
  function say(message) { statusEl.textContent = message; }
  function describeSelection() {
    if (!selection) { return; }
    var text = textBetween(selection.start, selection.end);
    say("Selected " + (selection.end - selection.start) + " characters: “" + shorten(text, 90) + "”. Press 1–9 or a code to apply.");
  }
  document.addEventListener("selectionchange", function () {
    if (keyboardMode) { return; }
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) { return; }
    var range = sel.getRangeAt(0);
    if (!textEl.contains(range.commonAncestorContainer)) { return; }
    var start = cpOf(range.startContainer, range.startOffset);
    var end = cpOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) { return; }
    if (selection && selection.start === start && selection.end === end) { return; }
    selection = { start: start, end: end };
    describeSelection();
  });

  var kbdButton = document.getElementById("kbd-mode");
  function setKeyboardMode(on) {
    keyboardMode = on;
    kbdButton.setAttribute("aria-pressed", on ? "true" : "false");
    textEl.classList.toggle("keyboard-mode", on);
    if (on) {
      if (selection) { anchor = selection.start; caret = selection.end; } else { caret = anchor = firstVisible(); }
      textEl.focus();
      drawKeyboard();
    } else {
      if (highlights) { CSS.highlights.delete("kbd-caret"); }
      say(selection ? "Keyboard selection stopped; the selection is kept." : "Keyboard selection stopped.");
    }
  }
  function firstVisible() {
    var top = textEl.getBoundingClientRect().top;
    for (var i = 0; i < paras.length; i++) {
      if (paras[i].getBoundingClientRect().bottom > top) { return starts[i]; }
    }
    return starts[0] || 0;
  }
  kbdButton.addEventListener("click", function () { setKeyboardMode(!keyboardMode); });

  function drawKeyboard() {
    var lo = Math.min(anchor, caret), hi = Math.max(anchor, caret);
    var sel = window.getSelection();
    if (hi > lo) {
      selection = { start: lo, end: hi };
      var range = makeRange(lo, hi);
      sel.removeAllRanges();
      sel.addRange(range);
    } else {
      selection = null;
      sel.removeAllRanges();
    }
    if (highlights) {
      var at = clampToText(caret, true), i = indexAt(at);
      var next = Math.min(at + 1, paraEnd(i));
      CSS.highlights.set("kbd-caret", new Highlight(makeRange(at, next > at ? next : at)));
    }
    var point = makeRange(caret, caret).getBoundingClientRect();
    var box = textEl.getBoundingClientRect();
    if (point.top < box.top || point.bottom > box.bottom) {
      paras[indexAt(caret)].scrollIntoView({ block: "center" });
    }
    if (selection) { describeSelection(); } else {
      var i2 = indexAt(caret);
      var rest = textBetween(caret, Math.min(paraEnd(i2), caret + 40));
      say("Caret at line " + (i2 + 1) + ", character " + (caret - starts[i2]) + ": “" + shorten(rest, 40) + "”. Shift and arrows select.");
    }
    showHere(caret, true);
  }
  var WORD = /[\p{L}\p{N}']/u;
  function moveWord(cp, forward) {
    var i = indexAt(cp), text = Array.from(para(i).text), local = cp - starts[i];
    if (forward) {
      if (local >= text.length) { return i + 1 < starts.length ? starts[i + 1] : cp; }
      while (local < text.length && WORD.test(text[local])) { local++; }
      while (local < text.length && !WORD.test(text[local])) { local++; }
    } else {
      if (local <= 0) { return i > 0 ? paraEnd(i - 1) : cp; }
      while (local > 0 && !WORD.test(text[local - 1])) { local--; }
      while (local > 0 && WORD.test(text[local - 1])) { local--; }
    }
    return starts[i] + local;
  }
  function moveCaret(key, word) {
    var i = indexAt(caret);
    switch (key) {
      case "ArrowRight":
        if (word) { return moveWord(caret, true); }
        return caret < paraEnd(i) ? caret + 1 : (i + 1 < starts.length ? starts[i + 1] : caret);
      case "ArrowLeft":
        if (word) { return moveWord(caret, false); }
        return caret > starts[i] ? caret - 1 : (i > 0 ? paraEnd(i - 1) : caret);
      case "ArrowDown":
        return i + 1 < starts.length ? Math.min(starts[i + 1] + (caret - starts[i]), paraEnd(i + 1)) : paraEnd(i);
      case "ArrowUp":
        return i > 0 ? Math.min(starts[i - 1] + (caret - starts[i]), paraEnd(i - 1)) : starts[i];
      case "Home": return starts[i];
      case "End": return paraEnd(i);
      case "PageDown": return starts[Math.min(starts.length - 1, i + 10)];
      case "PageUp": return starts[Math.max(0, i - 10)];
    }
    return null;
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (typing(event.target) || event.altKey || event.metaKey) { return; }
    var inText = event.target === textEl;
    if (keyboardMode && inText) {
      var next = moveCaret(event.key, event.ctrlKey);
      if (next !== null) {
        event.preventDefault();
        caret = next;
        if (!event.shiftKey) { anchor = caret; }
        drawKeyboard();
        return;
      }
      if (event.key === "Escape") { event.preventDefault(); setKeyboardMode(false); return; }
    }
    if (event.ctrlKey) { return; }
    var key = event.key.toLowerCase();
    if (inText && key === "k") { event.preventDefault(); setKeyboardMode(!keyboardMode); return; }
    if (inText && key === "h") { event.preventDefault(); showHere(selection ? selection.start : caret, true); return; }
    if (/^[1-9]$/.test(key)) {
      var button = document.querySelector('.apply-code[data-key="' + key + '"]');
      if (button) { event.preventDefault(); apply([Number(button.getAttribute("data-code"))]); }
    } else if (key === "a" && (inText || event.target === document.body)) {
      event.preventDefault();
      applyPicked();
    }
  });

  // ------------------------------------------------------------------------- applying
  var busy = false;
  function apply(codeIds) {
    if (!data.canWrite) { return; }
    if (!selection) { say("Select some text first."); return; }
    if (!codeIds.length) { say("Tick the codes to apply first."); return; }
    if (busy) { return; }
    busy = true;
    var chosen = selection;
    post(root.getAttribute("data-add-url"), { codes: codeIds, start: chosen.start, end: chosen.end })
      .then(function (json) {
        var fresh = json.codings.filter(function (c) {
          return !codings.some(function (known) { return known.id === c.id; });
        });
        fresh.forEach(function (c) { codings.push({ id: c.id, code: c.code, start: c.start, end: c.end, coder: c.coder }); });
        regroup();
        codeIds.forEach(paintCode);
        paintStripes(chosen);
        renderList();
        updateCount();
        say("Coded with " + codeIds.map(function (id) { return codes[id].name; }).join(", ") + (fresh.length ? "." : " (already coded)."));
        root.dispatchEvent(new CustomEvent("coded", { detail: json }));
      })
      .catch(function (error) { say("Not coded: " + error.message + "."); })
      .then(function () { busy = false; });
  }
  function applyPicked() {
    var picked = Array.prototype.map.call(document.querySelectorAll("#code-list .pick:checked"), function (box) { return Number(box.value); });
    apply(picked);
  }
  document.querySelectorAll(".apply-code").forEach(function (button) {
    // Keep the text selection when the mouse presses a code button.
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () { apply([Number(button.getAttribute("data-code"))]); });
  });
  var pickedButton = document.getElementById("apply-picked");
  if (pickedButton) {
    pickedButton.addEventListener("mousedown", function (event) { event.preventDefault(); });
    pickedButton.addEventListener("click", applyPicked);
  }
  var filter = document.getElementById("code-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      document.querySelectorAll("#code-list li").forEach(function (li) {
        li.hidden = wanted !== "" && li.getAttribute("data-name").indexOf(wanted) === -1;
      });
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        var first = document.querySelector("#code-list li:not([hidden]) .apply-code");
        if (first) { event.preventDefault(); apply([Number(first.getAttribute("data-code"))]); }
      }
    });
  }
  function updateCount() {
    var count = document.getElementById("coding-count");
    if (count) { count.textContent = String(codings.length); }
  }

  // ----------------------------------------------------------------- which codes are here
  function showHere(cp, announce) {
    var ids = codesAt(cp);
    hereEl.setAttribute("aria-live", announce ? "polite" : "off");
    hereEl.textContent = "";
    if (!ids.length) {
      var none = document.createElement("p");
      none.textContent = "No code covers this place.";
      hereEl.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    ids.forEach(function (id) {
      var li = document.createElement("li");
      li.textContent = codes[id] ? codes[id].path : "code " + id;
      list.appendChild(li);
    });
    hereEl.appendChild(list);
  }
  var hoverPending = false;
  textEl.addEventListener("mousemove", function (event) {
    if (hoverPending) { return; }
    hoverPending = true;
    requestAnimationFrame(function () {
      hoverPending = false;
      var node = null, offset = 0;
      if (document.caretPositionFromPoint) {
        var pos = document.caretPositionFromPoint(event.clientX, event.clientY);
        if (pos) { node = pos.offsetNode; offset = pos.offset; }
      } else if (document.caretRangeFromPoint) {
        var range = document.caretRangeFromPoint(event.clientX, event.clientY);
        if (range) { node = range.startContainer; offset = range.startOffset; }
      }
      var cp = node ? cpOf(node, offset) : null;
      if (cp !== null) { showHere(cp, false); }
    });
  });

  // ------------------------------------------------------------------- the codings list
  var listEl = document.getElementById("codings-list");
  var listFilter = document.getElementById("codings-filter");
  var more = document.getElementById("codings-more");
  var shown = 100;
  function renderList() {
    var wanted = listFilter.value ? Number(listFilter.value) : null;
    var rows = wanted === null ? codings : codings.filter(function (c) { return c.code === wanted; });
    listEl.textContent = "";
    var fragment = document.createDocumentFragment();
    rows.slice(0, shown).forEach(function (c) {
      var code = codes[c.code] || { name: "code " + c.code, colour: "#777777" };
      var li = document.createElement("li");
      li.id = "coding-" + c.id;
      var name = document.createElement("strong");
      name.textContent = code.name;
      var stripe = document.createElement("span");
      stripe.className = "stripe-inline";
      stripe.setAttribute("aria-hidden", "true");
      stripe.textContent = "■ ";
      stripe.style.color = code.colour;
      var where = document.createElement("span");
      where.className = "help";
      where.textContent = "characters " + c.start + "–" + c.end + " · " + c.coder;
      var show = document.createElement("button");
      show.type = "button";
      show.className = "small secondary";
      show.textContent = "Show";
      show.setAttribute("aria-label", "Show this coding of " + code.name + " in the text");
      show.addEventListener("click", function () { reveal(c); });
      var memo = document.createElement("a");
      memo.href = urlFor(root.getAttribute("data-memo-url"), c.id);
      memo.textContent = "Memos";
      memo.setAttribute("aria-label", "Memos on this coding of " + code.name);
      var excerpt = document.createElement("span");
      excerpt.className = "excerpt";
      excerpt.textContent = "“" + shorten(textBetween(c.start, c.end), 160) + "”";
      li.append(stripe, name, where, show, memo);
      if (data.canWrite) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "small exclude";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove this coding of " + code.name);
        remove.addEventListener("click", function () { unapply(c, li); });
        li.append(remove);
      }
      li.append(excerpt);
      fragment.appendChild(li);
    });
    listEl.appendChild(fragment);
    more.hidden = rows.length <= shown;
  }
  function reveal(c) {
    var range = makeRange(c.start, c.end);
    if (highlights) { CSS.highlights.set("focus-coding", new Highlight(range)); }
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    selection = { start: c.start, end: c.end };
    anchor = c.start; caret = c.end;
    paras[indexAt(c.start)].scrollIntoView({ block: "center" });
    textEl.focus({ preventScroll: true });
    showHere(c.start, false);
    say("Showing " + (codes[c.code] ? codes[c.code].name : "a coding") + ": “" + shorten(textBetween(c.start, c.end), 90) + "”. It is selected.");
  }
  function unapply(c, li) {
    post(urlFor(root.getAttribute("data-delete-url"), c.id), {})
      .then(function () {
        var next = li.nextElementSibling || li.previousElementSibling;
        codings = codings.filter(function (known) { return known.id !== c.id; });
        regroup();
        paintCode(c.code);
        paintStripes(c);
        if (highlights) { CSS.highlights.delete("focus-coding"); }
        renderList();
        updateCount();
        var focusTarget = next && document.getElementById(next.id);
        if (focusTarget) { focusTarget.querySelector("button").focus(); } else { listFilter.focus(); }
        say("Removed the coding of " + (codes[c.code] ? codes[c.code].name : "the code") + ".");
      })
      .catch(function (error) { say("Not removed: " + error.message + "."); });
  }
  listFilter.addEventListener("change", function () { shown = 100; renderList(); });
  more.addEventListener("click", function () { shown += 200; renderList(); });
  renderList();
  if (location.hash.indexOf("#coding-") === 0) {
    var target = Number(location.hash.slice(8));
    codings.forEach(function (c) { if (c.id === target) { reveal(c); } });
  }
  root.setAttribute("data-ready", "true");

  // ------------------------------------------------------------------------ images
  function imagePage() {
    var stage = document.getElementById("image-stage");
    var img = document.getElementById("coding-image");
    var inputs = ["x", "y", "width", "height"].map(function (n) { return document.getElementById("region-" + n); });
    function naturalSize() {
      return {
        w: Number(stage.getAttribute("data-width")) || (img && img.naturalWidth) || 1,
        h: Number(stage.getAttribute("data-height")) || (img && img.naturalHeight) || 1
      };
    }
    function box(x, y, w, h, colour, cls) {
      var size = naturalSize(), div = document.createElement("div");
      div.className = "region " + (cls || "");
      div.style.left = (100 * x / size.w) + "%";
      div.style.top = (100 * y / size.h) + "%";
      div.style.width = (100 * w / size.w) + "%";
      div.style.height = (100 * h / size.h) + "%";
      if (colour) { div.style.borderColor = colour; div.style.backgroundColor = rgbaColour(colour, 0.15); }
      div.setAttribute("aria-hidden", "true");
      stage.appendChild(div);
      return div;
    }
    function rgbaColour(hex, alpha) {
      var v = parseInt(hex.slice(1), 16);
      return "rgba(" + (v >> 16 & 255) + "," + (v >> 8 & 255) + "," + (v & 255) + "," + alpha + ")";
    }
    function drawExisting() {
      stage.querySelectorAll(".region:not(.drawing)").forEach(function (n) { n.remove(); });
      data.codings.forEach(function (c) {
        if (c.region) { box(c.region.x, c.region.y, c.region.width, c.region.height, (codes[c.code] || {}).colour || "#1b1b1f"); }
      });
    }
    if (!img) { root.setAttribute("data-ready", "true"); return; }
    if (img.complete) { drawExisting(); } else { img.addEventListener("load", drawExisting); }
    var origin = null, drawing = null;
    function toImage(event) {
      var rect = img.getBoundingClientRect(), size = naturalSize();
      return {
        x: Math.max(0, Math.min(size.w, Math.round((event.clientX - rect.left) * size.w / rect.width))),
        y: Math.max(0, Math.min(size.h, Math.round((event.clientY - rect.top) * size.h / rect.height)))
      };
    }
    stage.addEventListener("pointerdown", function (event) {
      if (!inputs[0]) { return; }
      event.preventDefault();
      origin = toImage(event);
      stage.setPointerCapture(event.pointerId);
      if (drawing) { drawing.remove(); }
      drawing = box(origin.x, origin.y, 0, 0, null, "drawing");
    });
    stage.addEventListener("pointermove", function (event) {
      if (!origin) { return; }
      var p = toImage(event), size = naturalSize();
      var x = Math.min(origin.x, p.x), y = Math.min(origin.y, p.y);
      var w = Math.abs(p.x - origin.x), h = Math.abs(p.y - origin.y);
      drawing.style.left = (100 * x / size.w) + "%";
      drawing.style.top = (100 * y / size.h) + "%";
      drawing.style.width = (100 * w / size.w) + "%";
      drawing.style.height = (100 * h / size.h) + "%";
      [x, y, Math.max(1, w), Math.max(1, h)].forEach(function (v, k) { inputs[k].value = v; });
    });
    stage.addEventListener("pointerup", function () { origin = null; });
    root.setAttribute("data-ready", "true");
  }

  // ---------------------------------------------------------------------- audio and video
  function mediaPage() {
    var player = document.getElementById("coding-player");
    function mark(buttonId, inputId) {
      var button = document.getElementById(buttonId);
      if (!button || !player) { return; }
      button.addEventListener("click", function () {
        document.getElementById(inputId).value = player.currentTime.toFixed(1);
      });
    }
    mark("mark-start", "time-start");
    mark("mark-end", "time-end");
    document.querySelectorAll(".play-from").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!player) { return; }
        player.currentTime = Number(button.getAttribute("data-time"));
        player.play();
      });
    });
    root.setAttribute("data-ready", "true");
  }
})();
