/* Reviewing a page: entry boxes and cut lines over the page image, edited by touch.
 *
 * Boxes are kept in the page view's pixels ([left, top, right, bottom]); the overlay
 * is scaled to the displayed image. A cut line is an edge two boxes share: dragging
 * it moves both. Pointer events serve fingers and mice alike.
 */
(function () {
  "use strict";
  var S = window.Station;
  var MIN_SIZE = 40;     /* smallest box side, in view pixels */
  var TOLERANCE = 0.02;  /* share of the page size within which two edges are one cut */

  S.screen("review", function () {
    var root = document.getElementById("review");
    var frame = document.getElementById("frame");
    var img = document.getElementById("page-img");
    var svg = document.getElementById("cuts");
    var page = JSON.parse(document.getElementById("page-data").textContent);
    var width = page.size[0];
    var height = page.size[1];
    var entries = [];
    var selected = -1;
    var dirty = false;
    var busy = false;
    var overlay = [];

    function load(view) {
      page = view;
      /* An entry with no box continues from another capture: it is not drawn here. */
      entries = (view.entries || []).filter(function (entry) { return !!entry.box; }).map(function (entry) {
        return {
          id: entry.entry_id, box: entry.box.slice(), number: String(entry.number),
          flags: (entry.flags || []).slice(), status: entry.status,
          /* A cut that steps round the writing (or follows a bent page) is drawn as
           * it is, until one of its lines is moved: it is then the box drawn. */
          outline: entry.outline || null, cutBox: entry.box.slice()
        };
      });
      dirty = false;
      if (selected >= entries.length) { selected = entries.length - 1; }
    }

    function scale() { return img.clientWidth / width; }

    /* ---- drawing ---------------------------------------------------------- */
    function render() {
      overlay.forEach(function (node) { node.remove(); });
      overlay = [];
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      var k = scale();
      if (!k) { return; }
      entries.forEach(function (entry, index) {
        var b = entry.box;
        var cut = shapeOf(entry);
        var classes = [];
        if (index === selected) { classes.push("selected"); }
        if (S.needsAttention(page, entry.flags)) { classes.push("flagged"); }
        cut.setAttribute("class", classes.join(" "));
        svg.appendChild(cut);
        var label = S.el("button", {
          type: "button", className: "label" + (index === selected ? " selected" : ""),
          "data-entry": String(index), "aria-label": S.t("review_entry") + " " + entry.number,
          text: entry.number
        });
        /* Near the box's top left corner: the middle is where its cut knobs are. */
        label.style.left = Math.min(b[0] * k + 40, (b[0] + b[2]) / 2 * k) + "px";
        label.style.top = Math.min(b[1] * k + 34, (b[1] + b[3]) / 2 * k) + "px";
        label.addEventListener("click", function (event) { event.stopPropagation(); select(index); });
        add(label);
      });
      handles().forEach(function (handle) { add(handleNode(handle, k)); });
      showEditor();
    }

    function add(node) { frame.appendChild(node); overlay.push(node); }

    function shapeOf(entry) {
      var b = entry.box, c = entry.cutBox, node;
      var kept = c && b[0] === c[0] && b[1] === c[1] && b[2] === c[2] && b[3] === c[3];
      if (entry.outline && kept) {
        node = document.createElementNS("http://www.w3.org/2000/svg", "polygon");
        node.setAttribute("points", entry.outline.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
        return node;
      }
      node = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      node.setAttribute("x", b[0]); node.setAttribute("y", b[1]);
      node.setAttribute("width", b[2] - b[0]); node.setAttribute("height", b[3] - b[1]);
      return node;
    }

    /* Edges of every box, merged where two boxes share one (a cut line). Outer edges
     * are offered for the selected box only, so the page stays readable. */
    function handles() {
      var found = [];
      var tolerance = TOLERANCE * Math.max(width, height);
      entries.forEach(function (entry, index) {
        var b = entry.box;
        [["t", "h", b[1], b[0], b[2]], ["b", "h", b[3], b[0], b[2]],
         ["l", "v", b[0], b[1], b[3]], ["r", "v", b[2], b[1], b[3]]].forEach(function (edge) {
          var match = null;
          found.forEach(function (h) {
            /* Only a bottom meets a top, and a right a left: that is a cut. */
            if (!match && h.orient === edge[1] && h.refs.length === 1 &&
                h.refs[0].side === OPPOSITE[edge[0]] && Math.abs(h.pos - edge[2]) <= tolerance &&
                Math.min(h.b, edge[4]) - Math.max(h.a, edge[3]) > 0 &&
                !h.refs.some(function (r) { return r.index === index; })) { match = h; }
          });
          if (match) {
            match.refs.push({ index: index, side: edge[0] });
            match.a = Math.max(match.a, edge[3]);
            match.b = Math.min(match.b, edge[4]);
            match.cut = true;
          } else {
            found.push({ orient: edge[1], pos: edge[2], a: edge[3], b: edge[4],
                         refs: [{ index: index, side: edge[0] }], cut: false });
          }
        });
      });
      return found.filter(function (h) {
        return h.cut || h.refs[0].index === selected;
      });
    }

    function handleNode(handle, k) {
      var node = S.el("div", {
        className: "handle " + handle.orient + (handle.cut ? " cut" : ""),
        role: "slider", "aria-label": S.t(handle.cut ? "cut_line" : "entry_edge"),
        "aria-valuenow": String(Math.round(handle.pos)), tabindex: "0"
      }, [S.el("i", {})]);
      if (handle.orient === "h") {
        node.style.left = (handle.a * k) + "px";
        node.style.width = ((handle.b - handle.a) * k) + "px";
        node.style.top = (handle.pos * k) + "px";
      } else {
        node.style.top = (handle.a * k) + "px";
        node.style.height = ((handle.b - handle.a) * k) + "px";
        node.style.left = (handle.pos * k) + "px";
      }
      node.dataset.cut = handle.cut ? "1" : "0";
      node.dataset.refs = handle.refs.map(function (r) { return entries[r.index].number + ":" + r.side; }).join(" ");
      drag(node, handle);
      return node;
    }

    /* ---- dragging a line ---------------------------------------------------- */
    var SIDE = { l: 0, t: 1, r: 2, b: 3 };
    var OPPOSITE = { t: "b", b: "t", l: "r", r: "l" };

    function limits(handle) {
      var low = 0;
      var high = handle.orient === "h" ? height : width;
      handle.refs.forEach(function (ref) {
        var b = entries[ref.index].box;
        if (ref.side === "t") { high = Math.min(high, b[3] - MIN_SIZE); }
        if (ref.side === "b") { low = Math.max(low, b[1] + MIN_SIZE); }
        if (ref.side === "l") { high = Math.min(high, b[2] - MIN_SIZE); }
        if (ref.side === "r") { low = Math.max(low, b[0] + MIN_SIZE); }
      });
      return [low, high];
    }

    function move(handle, pos) {
      var range = limits(handle);
      pos = Math.round(Math.max(range[0], Math.min(range[1], pos)));
      handle.refs.forEach(function (ref) { entries[ref.index].box[SIDE[ref.side]] = pos; });
      handle.pos = pos;
      dirty = true;
    }

    function drag(node, handle) {
      var active = null;
      node.addEventListener("pointerdown", function (event) {
        event.preventDefault();
        event.stopPropagation();
        node.setPointerCapture(event.pointerId);
        active = event.pointerId;
        dirty = true; /* no refresh may redraw the line under the finger */
        node.classList.add("dragging");
      });
      node.addEventListener("pointermove", function (event) {
        if (active !== event.pointerId) { return; }
        var rect = frame.getBoundingClientRect();
        var k = scale();
        var pos = handle.orient === "h" ? (event.clientY - rect.top) / k : (event.clientX - rect.left) / k;
        move(handle, pos);
        if (handle.orient === "h") { node.style.top = (handle.pos * k) + "px"; }
        else { node.style.left = (handle.pos * k) + "px"; }
        drawBoxesOnly();
      });
      function end(event) {
        if (active !== event.pointerId) { return; }
        active = null;
        node.classList.remove("dragging");
        render();
      }
      node.addEventListener("pointerup", end);
      node.addEventListener("pointercancel", end);
      node.addEventListener("keydown", function (event) {
        var step = { ArrowUp: -10, ArrowLeft: -10, ArrowDown: 10, ArrowRight: 10 }[event.key];
        if (!step) { return; }
        event.preventDefault();
        move(handle, handle.pos + step);
        render();
      });
    }

    function drawBoxesOnly() {
      /* One shape per entry, in order; a stepped cut whose line moves becomes its box. */
      Array.prototype.slice.call(svg.children).forEach(function (node, index) {
        var fresh = shapeOf(entries[index]);
        fresh.setAttribute("class", node.getAttribute("class") || "");
        svg.replaceChild(fresh, node);
      });
    }

    /* ---- the selected entry ------------------------------------------------ */
    function select(index) {
      selected = index;
      render();
    }

    function split(number) {
      var match = /^([0-9]+)([a-z]*)$/.exec(number);
      return match ? { digits: parseInt(match[1], 10), suffix: match[2] } : null;
    }

    function renumber(index, number) {
      entries[index].number = number;
      dirty = true;
      render();
      tellNext();
    }

    /* Says what the book's next number becomes with the page numbered as now shown. */
    function tellNext() {
      var numbers = entries.map(function (e) { return e.number; });
      S.api("POST", root.dataset.nextUrl, { numbers: numbers }).then(function (answer) {
        message(answer.text, answer.changes ? "bad" : "");
      }, function (failure) { message(failure.error, "bad"); });
    }

    function shiftAfter(index, delta) {
      /* Numbers after an added or removed cut move along, as on the paper. */
      for (var i = index + 1; i < entries.length; i += 1) {
        var parts = split(entries[i].number);
        if (parts) { entries[i].number = String(Math.max(1, parts.digits + delta)) + parts.suffix; }
      }
    }

    function showEditor() {
      var editor = document.getElementById("editor");
      var none = selected < 0 || !entries[selected];
      editor.hidden = none;
      document.getElementById("review-hint").hidden = !none;
      if (none) { return; }
      var entry = entries[selected];
      document.getElementById("editor-number").textContent = entry.number;
      document.getElementById("number").textContent = entry.number;
      var parts = split(entry.number) || { suffix: "" };
      Array.prototype.forEach.call(document.querySelectorAll("#suffixes button"), function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.suffix === parts.suffix));
      });
      Array.prototype.forEach.call(document.querySelectorAll("#flags button"), function (b) {
        b.setAttribute("aria-pressed", String(entry.flags.indexOf(b.dataset.flag) >= 0));
      });
      /* The station's own flags on this entry (faded ink...), each with what it means
       * and what to do. */
      var explained = document.getElementById("entry-flags");
      explained.textContent = "";
      entry.flags.forEach(function (flag) {
        if (document.querySelector("#flags button[data-flag='" + flag + "']")) { return; }
        /* Keys made from the flag's name: every ui.flag_<name> has its ui.flag_help_<name>. */
        var name = ["flag", flag].join("_");
        var helpKey = ["flag_help", flag].join("_");
        var help = S.t(helpKey);
        explained.appendChild(S.el("li", { "data-flag": flag }, [
          S.el("strong", { text: S.t(name) }),
          help === helpKey ? null : S.el("span", { text: " " + help })
        ]));
      });
      explained.hidden = !explained.children.length;
      document.getElementById("remove-cut").disabled = selected >= entries.length - 1;
    }

    function setupEditor() {
      document.getElementById("number-up").addEventListener("click", function () { step(1); });
      document.getElementById("number-down").addEventListener("click", function () { step(-1); });
      function step(delta) {
        var parts = split(entries[selected].number);
        if (parts) { renumber(selected, String(Math.max(1, parts.digits + delta)) + parts.suffix); }
      }
      document.getElementById("suffixes").addEventListener("click", function (event) {
        var button = event.target.closest("button[data-suffix]");
        var parts = button && split(entries[selected].number);
        if (parts) { renumber(selected, String(parts.digits) + button.dataset.suffix); }
      });
      document.getElementById("flags").addEventListener("click", function (event) {
        var button = event.target.closest("button[data-flag]");
        if (!button) { return; }
        var flags = entries[selected].flags;
        var at = flags.indexOf(button.dataset.flag);
        if (at >= 0) { flags.splice(at, 1); } else { flags.push(button.dataset.flag); }
        dirty = true;
        render();
      });
      document.getElementById("add-cut").addEventListener("click", function () {
        var b = entries[selected].box;
        if (b[3] - b[1] < 2 * MIN_SIZE) { return; }
        var middle = Math.round((b[1] + b[3]) / 2);
        var parts = split(entries[selected].number);
        var number = parts ? String(parts.digits + 1) : entries[selected].number + "b";
        shiftAfter(selected, 1);
        entries.splice(selected + 1, 0, { id: null, box: [b[0], middle, b[2], b[3]], number: number, flags: [], status: "review" });
        b[3] = middle;
        dirty = true;
        render();
      });
      document.getElementById("remove-cut").addEventListener("click", function () {
        var next = entries[selected + 1];
        if (!next) { return; }
        var b = entries[selected].box;
        entries[selected].box = [Math.min(b[0], next.box[0]), Math.min(b[1], next.box[1]),
                                 Math.max(b[2], next.box[2]), Math.max(b[3], next.box[3])];
        next.flags.forEach(function (f) { if (entries[selected].flags.indexOf(f) < 0) { entries[selected].flags.push(f); } });
        entries.splice(selected + 1, 1);
        shiftAfter(selected, -1);
        dirty = true;
        render();
      });
      var dialog = document.getElementById("number-dialog");
      var input = document.getElementById("number-input");
      var note = document.getElementById("number-note");
      var confirmButton = document.getElementById("number-confirm");
      var confirmed = null;
      function settleNumber(number) {
        if (number) { renumber(selected, number); }
        note.hidden = true;
        confirmButton.hidden = true;
        confirmed = null;
        dialog.close();
      }
      document.getElementById("number").addEventListener("click", function () {
        input.value = "";
        note.hidden = true;
        confirmButton.hidden = true;
        confirmed = null;
        if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
      });
      document.getElementById("number-cancel").addEventListener("click", function () { settleNumber(null); });
      confirmButton.addEventListener("click", function () { settleNumber(confirmed); });
      /* A new number that moves the book's next number is said, and asked, first: the
       * station asks what the next number would become (nothing changes yet). */
      document.getElementById("number-form").addEventListener("submit", function (event) {
        event.preventDefault();
        var parts = split(entries[selected].number) || { suffix: "" };
        if (!/^[0-9]{1,6}$/.test(input.value)) { settleNumber(null); return; }
        var wanted = input.value + parts.suffix;
        if (confirmed === wanted) { settleNumber(wanted); return; }
        var numbers = entries.map(function (e, i) { return i === selected ? wanted : e.number; });
        S.api("POST", root.dataset.nextUrl, { numbers: numbers }).then(function (answer) {
          if (answer.changes) {
            note.textContent = answer.text;
            note.hidden = false;
            confirmButton.hidden = false;
            confirmed = wanted;
          } else {
            settleNumber(wanted);
            message(answer.text, "good");
          }
        }, function (failure) {
          note.textContent = failure.error;
          note.hidden = false;
        });
      });
    }

    /* Tapping inside a box selects it. */
    frame.addEventListener("click", function (event) {
      if (event.target !== img) { return; }
      var rect = frame.getBoundingClientRect();
      var k = scale();
      var x = (event.clientX - rect.left) / k;
      var y = (event.clientY - rect.top) / k;
      for (var i = 0; i < entries.length; i += 1) {
        var b = entries[i].box;
        if (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]) { select(i); return; }
      }
    });

    /* ---- accepting ---------------------------------------------------------- */
    function message(text, kind) {
      var box = document.getElementById("review-message");
      box.textContent = text;
      box.className = "notice" + (kind ? " " + kind : "");
      box.hidden = !text;
    }

    document.getElementById("accept").addEventListener("click", function () {
      if (busy) { return; }
      busy = true;
      var button = this;
      button.disabled = true;
      message(S.t("saving"), "");
      var request = dirty
        ? S.api("POST", root.dataset.cutsUrl, {
            accept: true,
            cuts: entries.map(function (e) {
              var cut = { box: e.box, number: e.number, flags: e.flags };
              if (e.id) { cut.entry_id = e.id; }
              return cut;
            })
          })
        : S.api("POST", root.dataset.acceptUrl);
      request.then(function () {
        window.location.href = root.dataset.doneUrl;
      }, function (failure) {
        busy = false;
        button.disabled = false;
        message(failure.error, "bad");
      });
    });

    /* A page the station changes meanwhile (processing finished) is shown again,
     * unless the operator has started editing it. */
    var refresh = S.coalesce(function () {
      if (dirty || busy) { return null; }
      return S.api("GET", root.dataset.pageUrl).then(function (view) {
        if (dirty || busy) { return; }
        var same = view.status === page.status && JSON.stringify(view.entries) === JSON.stringify(page.entries);
        if (same) { return; } /* nothing to redraw under the operator's finger */
        load(view);
        var status = document.getElementById("page-status");
        status.className = "page-status " + view.status;
        status.textContent = view.status_label;
        render();
      });
    }, 250);
    S.live(function (event) {
      var data = event.data || {};
      if (event.kind === "resync" || event.kind === "changed" || data.capture_id === page.capture_id) {
        refresh();
      }
    });

    load(page);
    setupEditor();
    S.keepFitted(frame, document.getElementById("stage"), width / height);
    function shown() {
      render();
      root.dataset.ready = "1";
    }
    if (img.complete && img.naturalWidth) { shown(); } else { img.addEventListener("load", shown); }
    window.addEventListener("resize", render);
  });
})();
