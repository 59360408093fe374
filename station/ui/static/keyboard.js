/* An on-screen keyboard for the kiosk, which has no keyboard of its own.
 *
 * It opens under a text field marked data-osk when a finger taps it (a mouse or a real
 * keyboard leaves it closed) and types Vietnamese by Telex, as most Vietnamese
 * keyboards do: aa â, aw ă, ee ê, oo ô, ow ơ, uw (or w) ư, dd đ; then s f r x j for the
 * tones sắc, huyền, hỏi, ngã, nặng, and z to remove one. "Nguyeenx" gives "Nguyễn".
 * Fields marked data-osk="plain" (codes, Wi-Fi names and passwords) take the letters
 * as they are; for the others a line above the keys says how Telex works.
 *
 * The keyboard covers the bottom of the screen, so the page is given that much room
 * below and scrolled until the field sits just above the keys (at 800x480 a field in
 * the middle of the screen would be under them).
 */
(function () {
  "use strict";
  var S = window.Station;

  var TONES = { s: "\u0301", f: "\u0300", r: "\u0309", x: "\u0303", j: "\u0323" };
  var MARKS = { aa: "â", aw: "ă", ee: "ê", oo: "ô", ow: "ơ", uw: "ư", dd: "đ" };
  var VOWELS = "aăâeêioôơuưy";
  var MARKED = "ăâêôơư";
  var ROWS = [
    "1234567890",
    "qwertyuiop",
    "asdfghjkl-:",
    "zxcvbnm.,/;"
  ];
  /* Room kept between the field being typed and the keyboard's top edge. */
  var MARGIN = 8;

  function isVowel(ch) { return VOWELS.indexOf(ch.toLowerCase()) >= 0; }
  function sameCase(model, ch) { return model === model.toUpperCase() ? ch.toUpperCase() : ch; }

  /* The vowels that carry the word's tone: the last run of vowels, without the u of
   * "qu" and the i of "gi" before another vowel. */
  function nucleus(letters) {
    var end = -1;
    var start = -1;
    for (var i = letters.length - 1; i >= 0; i -= 1) {
      if (isVowel(letters[i])) {
        if (end < 0) { end = i; }
        start = i;
      } else if (end >= 0) {
        break;
      }
    }
    if (start < 0) { return null; }
    var before = start > 0 ? letters[start - 1].toLowerCase() : "";
    var first = letters[start].toLowerCase();
    if (end > start && ((before === "q" && first === "u") || (before === "g" && first === "i"))) {
      start += 1;
    }
    return { start: start, end: end, closed: end < letters.length - 1 };
  }

  /* Where the tone goes (the placement of today's government forms, as the catalogs use:
   * hòa, thủy, khỏe; hoàng, người). */
  function toneIndex(letters) {
    var n = nucleus(letters);
    if (!n) { return -1; }
    var marked = -1;
    for (var i = n.start; i <= n.end; i += 1) {
      if (MARKED.indexOf(letters[i].toLowerCase()) >= 0) { marked = i; }
    }
    if (marked >= 0) { return marked; }
    var size = n.end - n.start + 1;
    if (size === 1) { return n.start; }
    if (size === 3) { return n.start + 1; }
    return n.closed ? n.end : n.start;
  }

  /* One word's keystrokes as Vietnamese text. */
  function telex(keys) {
    var letters = [];
    var tone = "";
    for (var k = 0; k < keys.length; k += 1) {
      var key = keys[k];
      var lower = key.toLowerCase();
      var last = letters.length ? letters[letters.length - 1] : "";
      if (TONES[lower] && letters.some(isVowel)) {
        if (tone === TONES[lower]) { tone = ""; letters.push(key); } else { tone = TONES[lower]; }
        continue;
      }
      if (lower === "z" && tone) { tone = ""; continue; }
      var mark = MARKS[last.toLowerCase() + lower];
      if (mark) {
        letters[letters.length - 1] = sameCase(last, mark);
        var previous = letters[letters.length - 2] || "";
        if (mark === "ơ" && previous.toLowerCase() === "u") {
          letters[letters.length - 2] = sameCase(previous, "ư"); /* uow: ươ */
        }
        continue;
      }
      if (lower === "w") { letters.push(sameCase(key, "ư")); continue; }
      letters.push(key);
    }
    var at = tone ? toneIndex(letters) : -1;
    if (at >= 0) { letters[at] += tone; }
    return letters.join("").normalize("NFC");
  }

  /* ---- the panel ------------------------------------------------------------ */
  var panel = null;
  var field = null;
  var keys = "";      /* the Telex keystrokes of the word being typed */
  var typed = "";     /* what they gave, now at the end of the field */
  var shift = false;

  function build() {
    panel = S.el("div", { className: "osk", id: "osk", role: "group", "aria-label": S.t("keyboard") });
    panel.appendChild(S.el("p", { className: "osk-hint", id: "osk-hint", text: S.t("telex_hint") }));
    ROWS.forEach(function (row, index) {
      var line = S.el("div", { className: "osk-row" });
      row.split("").forEach(function (ch) {
        line.appendChild(S.el("button", { type: "button", "data-osk-key": ch, text: ch }));
      });
      if (index === 0) {
        line.appendChild(S.el("button", { type: "button", "data-osk-key": "back", className: "wide", "aria-label": S.t("key_back"), text: "⌫" }));
      }
      if (index === 3) {
        line.insertBefore(S.el("button", { type: "button", "data-osk-key": "shift", className: "wide", "aria-label": S.t("key_shift"), text: "⇧" }), line.firstChild);
      }
      panel.appendChild(line);
    });
    var bottom = S.el("div", { className: "osk-row" });
    bottom.appendChild(S.el("button", { type: "button", "data-osk-key": "newline", className: "wide", "aria-label": S.t("key_newline"), text: "↵" }));
    bottom.appendChild(S.el("button", { type: "button", "data-osk-key": " ", className: "space", "aria-label": S.t("key_space"), text: "␣" }));
    bottom.appendChild(S.el("button", { type: "button", "data-osk-key": "done", className: "wide primary", text: S.t("ok") }));
    panel.appendChild(bottom);
    /* Keys never take the focus from the field they type into. */
    panel.addEventListener("pointerdown", function (event) { event.preventDefault(); });
    panel.addEventListener("mousedown", function (event) { event.preventDefault(); });
    panel.addEventListener("click", function (event) {
      var button = event.target.closest("[data-osk-key]");
      if (button && field) { press(button.dataset.oskKey); }
    });
    document.body.appendChild(panel);
  }

  function write(value) {
    field.value = value;
    field.setSelectionRange(value.length, value.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /* A capital at the start of each word (names) or of each sentence (notes). */
  function capitalise() {
    var mode = field.getAttribute("autocapitalize");
    var before = field.value.slice(0, field.value.length - typed.length);
    if (keys !== "") { return false; }
    if (mode === "words") { return before === "" || /\s$/.test(before); }
    if (mode === "sentences") { return /(^|[.!?]\s+|\n)$/.test(before); }
    return false;
  }

  function press(key) {
    var value = field.value;
    var base = value.slice(0, value.length - typed.length);
    if (key === "done") { field.blur(); close(); return; }
    if (key === "shift") { shift = !shift; showShift(); return; }
    if (key === "back") {
      if (keys) {
        keys = keys.slice(0, -1);
        typed = field.dataset.osk === "plain" ? keys : telex(keys);
        write(base + typed);
      } else {
        write(value.slice(0, -1));
      }
      return;
    }
    if (/^[a-z]$/.test(key)) {
      var letter = shift || capitalise() ? key.toUpperCase() : key;
      shift = false;
      showShift();
      keys += letter;
      typed = field.dataset.osk === "plain" ? keys : telex(keys);
      write(base + typed);
      return;
    }
    keys = "";
    typed = "";
    if (key === "newline") {
      if (field.tagName === "TEXTAREA") { write(value + "\n"); }
      return;
    }
    write(value + key);
  }

  function showShift() {
    var button = panel.querySelector("[data-osk-key=shift]");
    button.setAttribute("aria-pressed", String(shift));
  }

  function open(target) {
    if (!panel) { build(); }
    field = target;
    keys = "";
    typed = "";
    shift = false;
    showShift();
    panel.querySelector("[data-osk-key=newline]").hidden = target.tagName !== "TEXTAREA";
    panel.querySelector("#osk-hint").hidden = target.dataset.osk === "plain";
    panel.hidden = false;
    document.body.classList.add("osk-open");
    document.body.style.setProperty("--osk-room", panel.offsetHeight + "px");
    target.setSelectionRange(target.value.length, target.value.length);
    reveal(target);
  }

  /* Scroll the field (with its label) into the part of the screen above the keys. */
  function reveal(target) {
    var label = target.closest("label") || target;
    var room = panel.getBoundingClientRect().top - MARGIN;
    var field = target.getBoundingClientRect();
    var top = Math.min(label.getBoundingClientRect().top, field.top);
    var shift = 0;
    if (field.bottom > room) { shift = field.bottom - room; }
    if (top - shift < 0) { shift = Math.min(shift, top); }
    if (top < 0) { shift = top; }
    if (shift) { window.scrollBy(0, shift); }
    var scroller = target.closest("main");
    var still = target.getBoundingClientRect();
    if (scroller && still.bottom > room) { scroller.scrollTop += still.bottom - room; }
    target.dataset.revealed = "1";
  }

  function close() {
    if (panel) { panel.hidden = true; }
    document.body.classList.remove("osk-open");
    document.body.style.removeProperty("--osk-room");
    field = null;
  }

  /* A field focused by a finger opens the keyboard; a mouse or a keyboard does not. */
  var lastPointer = "";
  document.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType; }, true);
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-osk]") && lastPointer === "touch") {
      open(target);
    } else if (field && target !== field) {
      close();
    }
  });

  S.telex = telex;
})();
