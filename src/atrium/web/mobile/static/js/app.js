/* Atrium mobile: the little behaviour the pages need beyond htmx. Every page works without it. */
(function () {
  "use strict";

  // Installable and offline-aware: the service worker serves the offline page when the network is gone.
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* optional */ });
    });
  }

  // Show / hide a password. The button names its action and says whether it is pressed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-password]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-toggle-password"));
    if (!input) return;
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", show ? "true" : "false");
    var use = button.querySelector("use");
    if (use) {
      var href = use.getAttribute("href");
      use.setAttribute("href", href.replace(/#.*$/, show ? "#eye-off" : "#eye"));
    }
  });

  // A form marked data-submit-once disables its submit button after the first submit, so a double tap
  // sends one request (the server's idempotency key is the real guarantee; this spares the round trip).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once]")) return;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.setAttribute("aria-disabled", "true");
      var busy = b.getAttribute("data-busy-text");
      if (busy) b.textContent = busy;
    });
  });

  // Pages restored from the back/forward cache must accept a new submit.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });

  // A step-up just completed: post the original form again at once (its button stays for no-JS use).
  function autoSubmit() {
    var form = document.querySelector("form[data-auto-submit]");
    if (form && form.dataset.submitted !== "1") { form.dataset.submitted = "1"; form.submit(); }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoSubmit);
  else autoSubmit();

  // A language picker whose radios submit as soon as one is chosen (the button remains for no-JS use).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-autosubmit]")) input.form.requestSubmit();
  });

  // Elder mode's read-back can also be heard, in the browser's own voice where it has one (the button
  // stays hidden where it has none).
  if ("speechSynthesis" in window) {
    document.querySelectorAll("[data-speak]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-speak]");
    if (!button || !("speechSynthesis" in window)) return;
    var source = document.getElementById(button.getAttribute("data-speak"));
    if (!source) return;
    window.speechSynthesis.cancel();
    var utterance = new SpeechSynthesisUtterance(source.textContent.trim());
    utterance.lang = document.documentElement.lang || "zh-CN";
    utterance.rate = 0.9;  // a little slower than the default: it is read back to be checked
    window.speechSynthesis.speak(utterance);
  });

  // Mirror the chosen account's available balance next to the amount field in the transfer form.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[name=from_account_id]")) return;
    var out = document.getElementById("available-hint");
    if (out && input.dataset.available) out.textContent = input.dataset.available;
    var cur = document.getElementById("amount-currency");
    if (cur && input.dataset.symbol) {
      cur.textContent = input.dataset.symbol;
      cur.parentElement.toggleAttribute("data-wide", input.dataset.symbol.length > 1);
    }
  });
})();
