/* The touch screen's phone pairing: the QR code, phones asking, paired phones.
 *
 * The page is drawn by the station; it is drawn again when a phone asks, is answered
 * or revoked (a "phones" event), and when the QR code's time is up, so the code on
 * screen is always one a phone can still use.
 */
(function () {
  "use strict";
  var S = window.Station;

  S.screen("phone", function () {
    var root = document.getElementById("phone-screen");
    var leaving = false;
    var reload = S.coalesce(function () {
      if (!leaving) { window.location.replace(window.location.pathname); }
    }, 300);
    /* An answer on its way reloads the page itself; a second reload would race it. */
    document.addEventListener("submit", function () { leaving = true; });
    S.live(function (event) {
      if (event.kind === "phones") { reload(); }
    });
    var seconds = parseInt(root.dataset.expiresIn || "0", 10);
    /* A little early: a phone that scans in the last second still gets a live code. */
    if (seconds > 30) { setTimeout(reload, (seconds - 20) * 1000); }
    root.dataset.ready = "1";
  });
})();
