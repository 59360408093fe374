/* The main screen: one big capture button (and Space, Enter, PageDown or a pedal that
 * types them), the device and batch state, and the last page with its cuts.
 *
 * The steady state costs one tap per page: a confident page needs nothing more (the
 * station accepts it as soon as it is processed), so the operator turns the page and
 * presses again.
 */
(function () {
  "use strict";
  var S = window.Station;
  var KEYS = { " ": true, "Enter": true, "PageDown": true };
  var DEBOUNCE_MS = 400;

  S.screen("scan", function () {
    var root = document.getElementById("scan");
    var button = document.getElementById("capture");
    var state = JSON.parse(document.getElementById("scan-state").textContent);
    var shownPage = "";
    var lastPress = 0;
    var starting = false;

    function text(id, value) {
      var node = document.getElementById(id);
      if (node) { node.textContent = value === null || value === undefined ? "" : String(value); }
    }

    function show(next) {
      state = next;
      S.showDevice(state.device);
      S.showBanner(state.banner);
      var capture = state.capture || {};
      var running = !!capture.running || starting;
      button.setAttribute("aria-busy", String(running));
      text("capture-label", running ? S.t("capturing") : S.t("capture_page"));
      document.getElementById("cancel-form").hidden = !capture.running;
      document.getElementById("capture-all").disabled = running;
      text("status-line", state.status_line);
      var bar = document.getElementById("batch-progress");
      bar.hidden = !(capture.running && capture.count > 1);
      if (!bar.hidden) {
        bar.firstElementChild.style.width = Math.round(100 * capture.pages_saved / capture.count) + "%";
      }
      text("book-ref", state.book ? state.book.name : S.t("none"));
      text("next-entry", state.book ? state.book.next_entry : "");
      text("queue", state.queue);
      text("operator", state.operator || "—");
      text("progress", state.progress);
      if (state.saved_page && state.saved_page.image) {
        showSavedPage(state.saved_page);
      } else {
        showLastPage(state.last_page);
      }
      root.dataset.savedPage = state.saved_page ? state.saved_page.capture_id : "";
      root.dataset.captureRunning = String(!!capture.running);
      root.dataset.lastPage = state.last_page ? state.last_page.capture_id : "";
      root.dataset.lastStatus = state.last_page ? state.last_page.status : "";
    }

    /* A page saved and not yet cut: shown at once, its cut lines follow. */
    function showSavedPage(saved) {
      var badge = document.getElementById("last-status");
      document.getElementById("thumb-empty").hidden = true;
      document.getElementById("review-last").hidden = true;
      text("last-flags", "");
      badge.hidden = false;
      badge.className = "page-status badge saved";
      badge.textContent = S.t("page_saved");
      var key = "saved|" + saved.capture_id;
      if (key !== shownPage) {
        shownPage = key;
        S.drawPage(document.getElementById("thumb"), { image: saved.image, size: saved.size, entries: [] }, null);
      }
    }

    function showLastPage(page) {
      var badge = document.getElementById("last-status");
      var review = document.getElementById("review-last");
      document.getElementById("thumb-empty").hidden = !!page;
      badge.hidden = !page;
      review.hidden = !page;
      text("last-flags", page ? (page.flag_help || []).map(function (f) {
        return f.label + (f.help ? ": " + f.help : "");
      }).join(" · ") : "");
      if (!page) { return; }
      badge.className = "page-status badge " + page.status;
      badge.textContent = page.status_label;
      review.href = page.review;
      review.className = "btn review-btn" + (page.status === "review" ? " primary" : "");
      var key = page.capture_id + "|" + page.status + "|" + JSON.stringify(page.entries);
      if (key !== shownPage) {
        shownPage = key;
        S.drawPage(document.getElementById("thumb"), page, page.review);
      }
    }

    var refresh = S.coalesce(function () {
      return S.api("GET", root.dataset.stateUrl).then(show);
    }, 150);

    function capture() {
      var now = Date.now();
      if (now - lastPress < DEBOUNCE_MS || starting || (state.capture && state.capture.running)) { return; }
      lastPress = now;
      starting = true;
      show(state);
      S.api("POST", root.dataset.captureUrl, {}).then(function (next) {
        starting = false;
        show(next);
      }, function (failure) {
        starting = false;
        /* A press while a pedal's capture runs is simply absorbed. */
        if (failure.status !== 409) {
          show(Object.assign({}, state, { status_line: failure.error }));
        } else {
          show(state);
        }
        refresh();
      });
    }

    document.getElementById("capture-form").addEventListener("submit", function (event) {
      event.preventDefault();
      capture();
    });
    document.getElementById("feeder-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (starting || (state.capture && state.capture.running)) { return; }
      starting = true;
      S.api("POST", root.dataset.captureUrl + "?count=all", {}).then(function (next) {
        starting = false; show(next);
      }, function (failure) {
        starting = false;
        show(Object.assign({}, state, { status_line: failure.error }));
      });
    });
    document.getElementById("cancel-form").addEventListener("submit", function (event) {
      event.preventDefault();
      S.api("POST", root.dataset.cancelUrl, {}).then(show, function () { refresh(); });
    });

    /* The pedal types Space, Enter or PageDown; a held key repeats, which is not a press. */
    function typing(target) {
      return target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    }
    document.addEventListener("keydown", function (event) {
      if (!KEYS[event.key] || typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) { return; }
      event.preventDefault();
      if (!event.repeat) { capture(); }
    });
    document.addEventListener("keyup", function (event) {
      if (KEYS[event.key] && !typing(event.target)) { event.preventDefault(); }
    });

    S.live(function () { refresh(); });
    show(state);
    root.dataset.ready = "1";
  });
})();
