/* The phone's page: spend the QR code, wait for the station's answer, send photos.
 *
 * Photos go one per request, one at a time, each with its own progress bar and
 * result; a photo that failed can be sent again. Refusals come from the station in
 * the reader's language; a refusal with no words of ours (a body too large for the
 * web server itself, a dropped connection) is told from its status.
 */
(function () {
  "use strict";
  var POLL_MS = 2000;
  var root = document.getElementById("phone");
  var texts = JSON.parse(document.getElementById("phone-texts").textContent || "{}");
  var limitMb = parseInt(root.dataset.limitMb, 10);
  var queue = [];
  var busy = false;

  function t(key, values) {
    var text = texts[key] !== undefined ? texts[key] : key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function show(view) {
    ["claim", "wait", "upload", "ended"].forEach(function (name) {
      document.getElementById("view-" + name).hidden = name !== view;
    });
    root.dataset.view = view;
  }

  function ended(message) {
    document.getElementById("ended-message").textContent = message || t("http.other");
    show("ended");
  }

  /* A JSON request with the CSRF token: resolves {status, data}, never rejects. */
  function call(method, url, payload) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": root.dataset.csrf }
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () { return { status: response.status, data: {} }; });
    }, function () { return { status: 0, data: { error: t("phone_network") } }; });
  }

  /* ---- pairing ---------------------------------------------------------------- */
  function waitFor(state) {
    document.getElementById("compare").textContent = state.compare || "";
    show("wait");
    setTimeout(check, POLL_MS);
  }

  function check() {
    call("GET", root.dataset.stateUrl).then(function (answer) {
      var state = answer.data || {};
      if (state.status === "active") { window.location.replace(root.dataset.mobileUrl); }
      else if (state.status === "pending" || answer.status === 0) { setTimeout(check, POLL_MS); }
      else { ended(state.message || t("phone_refused_by_station")); }
    });
  }

  function claim() {
    call("POST", root.dataset.claimUrl, { code: root.dataset.code }).then(function (answer) {
      if (answer.status === 200) { waitFor(answer.data); }
      else { ended(answer.data.error); }
    });
  }

  /* ---- photos ------------------------------------------------------------------- */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function addPhoto(file) {
    var row = el("li");
    var name = el("strong", "", file.name || "?");
    var track = el("div", "bar-track");
    var bar = el("i");
    var result = el("span", "result-text", t("phone_sending"));
    var retry = el("button", "retry", t("phone_retry"));
    retry.type = "button";
    retry.hidden = true;
    track.appendChild(bar);
    [name, track, result, retry].forEach(function (node) { row.appendChild(node); });
    document.getElementById("results").appendChild(row);
    var item = { file: file, row: row, bar: bar, result: result, retry: retry };
    retry.addEventListener("click", function () { enqueue(item); });
    enqueue(item);
  }

  function enqueue(item) {
    item.row.dataset.state = "waiting";
    item.retry.hidden = true;
    item.bar.style.width = "0%";
    item.result.textContent = t("phone_sending");
    queue.push(item);
    pump();
  }

  function pump() {
    if (busy || !queue.length) { return; }
    busy = true;
    send(queue.shift(), function () { busy = false; pump(); });
  }

  function finish(item, saved, message, canRetry) {
    item.row.dataset.state = saved ? "saved" : "refused";
    item.bar.style.width = saved ? "100%" : item.bar.style.width;
    item.result.textContent = saved ? t("phone_saved") : t("phone_refused") + ": " + message;
    item.retry.hidden = saved || !canRetry;
  }

  function send(item, done) {
    if (item.file.size > limitMb * 1024 * 1024) {
      finish(item, false, t("phone_too_big", { limit: limitMb }), false);
      done();
      return;
    }
    item.row.dataset.state = "sending";
    var form = new FormData();
    form.append("photo", item.file, item.file.name || "photo.jpg");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", root.dataset.uploadUrl);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", root.dataset.csrf);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        item.bar.style.width = Math.round(100 * event.loaded / event.total) + "%";
      }
    });
    xhr.addEventListener("load", function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status === 200 && data && data.saved) {
        finish(item, true, "", false);
      } else if (data && (data.message || data.error)) {
        /* The station's own words; a revoked phone is told to scan the QR code again. */
        finish(item, false, data.message || data.error, xhr.status !== 403 && xhr.status !== 422);
      } else if (xhr.status === 413) {
        finish(item, false, t("phone_too_big", { limit: limitMb }), false);
      } else {
        finish(item, false, t("http.other"), true);
      }
      done();
    });
    xhr.addEventListener("error", function () {
      finish(item, false, t("phone_network"), true);
      done();
    });
    xhr.send(form);
  }

  ["photos-camera", "photos-files"].forEach(function (id) {
    var input = document.getElementById(id);
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, addPhoto);
      input.value = "";  /* the same photo may be chosen again */
    });
  });

  if (root.dataset.view === "claim") { claim(); }
  else if (root.dataset.view === "wait") { setTimeout(check, POLL_MS); }
  document.body.dataset.ready = "1";
})();
