/* The station's touch screens: what every screen shares.
 *
 * Plain JavaScript served by the station itself (no build step, no internet). Each
 * screen's own script registers with Station.screen(name, setup); this file runs the
 * one named by <body data-screen>. Live updates come as server-sent events from
 * /events; when the station refuses or the stream fails, the screen polls instead.
 */
(function () {
  "use strict";

  var body = document.body;
  var texts = JSON.parse(document.getElementById("texts").textContent || "{}");
  var screens = {};

  function t(key, values) {
    var text = texts[key] !== undefined ? texts[key] : key;
    if (values) {
      Object.keys(values).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(values[name]));
      });
    }
    return text;
  }

  /* A JSON request carrying the CSRF token; rejects with {status, error}. */
  function api(method, url, payload) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": body.dataset.csrf || "" }
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (raw) {
        var data = {};
        try { data = raw ? JSON.parse(raw) : {}; } catch (e) { data = { error: t("http.other") }; }
        if (!response.ok) {
          throw { status: response.status, error: data.error || t("http.other") };
        }
        return data;
      });
    }, function () {
      throw { status: 0, error: t("offline_station") };
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "className") { node.className = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  /* ---- live updates -------------------------------------------------------- */
  var POLL_MS = 2000;
  /* The kinds of event the station sends (station/events.py). */
  var KINDS = ["resync", "device", "capture", "page", "entry", "book", "shift", "storage", "phones"];

  /* Calls onChange(event) for each event from the station ({kind, data}), and with
   * {kind: "resync"} whenever the screen may have missed some. Without a stream
   * (refused, or broken), the station's /status.json is polled instead and every
   * change in it is a {kind: "changed"} event. */
  function live(onChange) {
    var pollTimer = null;
    var source = null;
    var failures = 0;
    var last = null;

    function check() {
      fetch("/status.json", { credentials: "same-origin" }).then(function (answer) {
        return answer.text();
      }).then(function (text) {
        if (last !== null && text !== last) { onChange({ kind: "changed", data: {} }); }
        last = text;
      }, function () { return null; });
    }

    function poll() {
      if (pollTimer) { return; }
      body.dataset.live = "poll";
      last = null;
      onChange({ kind: "resync", data: {} });
      check();
      pollTimer = setInterval(check, POLL_MS);
    }

    function connect() {
      if (!window.EventSource) { poll(); return; }
      source = new EventSource("/events");
      source.onopen = function () {
        failures = 0;
        body.dataset.live = "sse";
        if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
      };
      KINDS.forEach(function (kind) {
        source.addEventListener(kind, function (message) {
          var data = {};
          try { data = JSON.parse(message.data || "{}"); } catch (e) { data = {}; }
          onChange({ kind: kind, data: data });
        });
      });
      source.onerror = function () {
        failures += 1;
        /* A refused stream (too many screens, 503) closes for good: poll instead.
         * A broken one reconnects by itself; poll meanwhile if it keeps failing. */
        if (source.readyState === EventSource.CLOSED || failures > 2) {
          source.close();
          poll();
          setTimeout(function () { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; connect(); } }, 30000);
        }
      };
    }
    connect();
    window.addEventListener("pagehide", function () { if (source) { source.close(); } });
  }

  /* Run fn at most once per `ms`, trailing: bursts of events cost one refresh. */
  function coalesce(fn, ms) {
    var timer = null;
    var again = false;
    var running = false;
    function run() {
      timer = null;
      running = true;
      again = false;
      Promise.resolve(fn()).catch(function () { return null; }).then(function () {
        running = false;
        if (again) { schedule(); }
      });
    }
    function schedule() {
      if (running) { again = true; return; }
      if (!timer) { timer = setTimeout(run, ms); }
    }
    return schedule;
  }

  /* ---- header: device pill and banner --------------------------------------- */
  function showDevice(device) {
    var pill = document.getElementById("device-pill");
    if (!pill || !device) { return; }
    pill.className = "pill state-" + device.state;
    pill.textContent = device.label;
  }

  function showBanner(banner) {
    var box = document.getElementById("banner");
    if (!box) { return; }
    box.textContent = "";
    if (!banner) { box.hidden = true; return; }
    box.className = "banner" + (banner.level && banner.level !== "bad" ? " " + banner.level : "");
    box.appendChild(el("strong", { text: banner.text }));
    if (banner.fix) { box.appendChild(el("span", { text: banner.fix })); }
    if (banner.action) {
      /* The device's Connect button: looks for the device again, then shows the answer. */
      var button = el("button", { type: "button", id: "banner-action", className: "primary", text: banner.action_label });
      button.addEventListener("click", function () {
        button.disabled = true;
        api("POST", banner.action, {}).then(function (state) {
          showDevice(state.device);
          showBanner(state.banner);
        }, function (failure) {
          button.disabled = false;
          showBanner(Object.assign({}, banner, { fix: failure.error }));
        });
      });
      box.appendChild(button);
    }
    box.hidden = false;
  }

  /* ---- on-screen keypad --------------------------------------------------- */
  function setupKeypads(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-keypad]"), function (pad) {
      pad.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-key]");
        var input = document.getElementById(pad.dataset.keypad);
        if (!button || !input) { return; }
        var key = button.dataset.key;
        if (key === "ok") {
          /* A submit button: the form submits, unless a keypad field is still empty;
           * then the digits go there next (a PIN, then the same PIN again). */
          var empty = input.form && Array.prototype.filter.call(
            input.form.querySelectorAll("input[inputmode=none][required]"),
            function (field) { return !field.value; })[0];
          if (empty) { event.preventDefault(); retarget(input.form, empty.id); }
          return;
        }
        event.preventDefault();
        if (key === "next") {
          var fields = Array.prototype.slice.call(input.form.querySelectorAll("input[inputmode=none]"));
          var next = fields[fields.indexOf(input) + 1];
          if (next) { retarget(input.form, next.id); next.focus(); }
          return;
        }
        var max = parseInt(input.getAttribute("maxlength") || "12", 10);
        if (key === "back") { input.value = input.value.slice(0, -1); }
        else if (input.value.length < max) { input.value += key; }
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
    /* Where a form has several keypad fields, tapping one sends the keypad's digits
     * there. */
    function retarget(form, id) {
      var pad = form && form.querySelector("[data-keypad]");
      if (!pad) { return; }
      pad.dataset.keypad = id;
      Array.prototype.forEach.call(form.querySelectorAll("input[inputmode=none]"), function (input) {
        input.classList.toggle("active", input.id === id);
      });
    }
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-keypad]"), function (pad) {
      var form = pad.closest("form");
      if (form) { retarget(form, pad.dataset.keypad); }
    });
    Array.prototype.forEach.call((root || document).querySelectorAll("input[inputmode=none]"), function (input) {
      input.addEventListener("focus", function () { retarget(input.form, input.id); });
      input.addEventListener("click", function () { retarget(input.form, input.id); });
    });
    /* + and - steppers beside number fields. */
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-step]"), function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.target);
        var value = parseInt(input.value || "0", 10) + parseInt(button.dataset.step, 10);
        var min = input.min === "" ? -Infinity : parseInt(input.min, 10);
        var max = input.max === "" ? Infinity : parseInt(input.max, 10);
        input.value = String(Math.max(min, Math.min(max, isNaN(value) ? 0 : value)));
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }

  /* Forms submit once: a second tap while the first is on its way does nothing. */
  function guardForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.dataset.sending === "1") { event.preventDefault(); return; }
      form.dataset.sending = "1";
      setTimeout(function () { form.dataset.sending = ""; }, 4000);
    }, true);
  }

  /* The browser's own complaints about a form field are English ("Please fill out this
   * field."): each one is replaced by the station's words naming the field by its
   * label. A complaint is cleared when the field changes or the form is sent again. */
  function fieldLabel(field) {
    var label = field.closest("label");
    var span = label ? label.querySelector("span") : null;
    var words = span ? span.textContent : (field.getAttribute("aria-label") || field.name);
    return words.trim();
  }
  function sayInvalid() {
    document.addEventListener("invalid", function (event) {
      var field = event.target;
      var v = field.validity;
      var name = fieldLabel(field);
      var text = t("field_invalid", { name: name });
      if (v.valueMissing) { text = t("field_required", { name: name }); }
      else if (v.rangeUnderflow || v.rangeOverflow) {
        text = t("field_range", { name: name, low: field.min, high: field.max });
      }
      field.setCustomValidity(text);
    }, true);
    var clear = function (event) {
      if (event.target.setCustomValidity) { event.target.setCustomValidity(""); }
    };
    document.addEventListener("input", clear, true);
    document.addEventListener("change", clear, true);
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[type=submit]") : null;
      if (!button || !button.form) { return; }
      Array.prototype.forEach.call(button.form.elements, function (field) {
        if (field.setCustomValidity) { field.setCustomValidity(""); }
      });
    }, true);
  }

  /* Whether an entry's flags ask for a look (a torn page, a repeated number...). */
  function needsAttention(page, flags) {
    return (flags || []).some(function (flag) { return (page.attention_flags || []).indexOf(flag) >= 0; });
  }

  /* Size `frame` to the largest box of the page's shape inside `container`. */
  var fitted = [];
  function fit(frame, container, aspect) {
    var width = Math.min(container.clientWidth, container.clientHeight * aspect);
    frame.style.width = Math.floor(width) + "px";
    frame.style.height = Math.floor(width / aspect) + "px";
  }
  function keepFitted(frame, container, aspect) {
    fitted = fitted.filter(function (item) { return item.container !== container; });
    fitted.push({ frame: frame, container: container, aspect: aspect });
    fit(frame, container, aspect);
  }
  window.addEventListener("resize", function () {
    fitted.forEach(function (item) { fit(item.frame, item.container, item.aspect); });
  });

  /* A page image with its entry boxes and numbers drawn over it (not editable);
   * tapping it opens `href`. Replaces the page `container` showed before. */
  function drawPage(container, page, href) {
    Array.prototype.forEach.call(container.querySelectorAll(".frame, a.page-link"), function (node) {
      node.remove();
    });
    var NS = "http://www.w3.org/2000/svg";
    var frame = el("span", { className: "frame" });
    var img = el("img", { src: page.image, alt: t("page_alt", { sequence: page.sequence }), draggable: "false" });
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "cuts");
    svg.setAttribute("viewBox", "0 0 " + page.size[0] + " " + page.size[1]);
    svg.setAttribute("preserveAspectRatio", "none");
    frame.appendChild(img);
    frame.appendChild(svg);
    (page.entries || []).forEach(function (entry) {
      var b = entry.box;
      if (!b) { return; }
      var rect = document.createElementNS(NS, "rect");
      rect.setAttribute("x", b[0]); rect.setAttribute("y", b[1]);
      rect.setAttribute("width", b[2] - b[0]); rect.setAttribute("height", b[3] - b[1]);
      if (needsAttention(page, entry.flags)) { rect.setAttribute("class", "flagged"); }
      svg.appendChild(rect);
      var label = el("span", { className: "label", text: entry.number, "data-number": entry.number });
      label.style.left = (100 * (b[0] + b[2]) / 2 / page.size[0]) + "%";
      label.style.top = (100 * (b[1] + b[3]) / 2 / page.size[1]) + "%";
      frame.appendChild(label);
    });
    var holder = href ? el("a", { className: "page-link", href: href, "aria-label": t("review_page") }, [frame]) : frame;
    container.insertBefore(holder, container.firstChild);
    keepFitted(frame, container, page.size[0] / page.size[1]);
  }

  function screen(name, setup) { screens[name] = setup; }

  window.Station = {
    t: t, api: api, el: el, live: live, coalesce: coalesce, screen: screen, drawPage: drawPage,
    keepFitted: keepFitted, needsAttention: needsAttention,
    showDevice: showDevice, showBanner: showBanner, setupKeypads: setupKeypads
  };

  document.addEventListener("DOMContentLoaded", function () {
    setupKeypads(document);
    guardForms();
    sayInvalid();
    var toast = document.getElementById("flash");
    if (toast) {
      var hide = function () { toast.hidden = true; };
      toast.addEventListener("click", hide);
      setTimeout(hide, 6000);
    }
    var setup = screens[body.dataset.screen];
    if (setup) { setup(); }
    body.dataset.ready = "1";
  });
})();
