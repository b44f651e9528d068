/* Atrium push notifications: turn Web Push on and off for this browser (the message settings page).
   No framework, no inline code. The page's [data-push-control] section carries
     data-push-state    "ready": this script finds out the rest; "bank_off" / "demo": the server already
                        explained why there is nothing to turn on, and this script leaves it alone
     data-msg-<key>     the texts, in the page's language
   and holds [data-push-status] (role=status: the state, or what just happened), [data-push-toggle] (the
   one button: turn on / turn off), [data-push-others] (the customer's other subscribed browsers).

   Which subscription is this browser's: the API lists the customer's subscriptions by id only (an endpoint
   is a capability URL and is never shown back), so the id the API answered when this browser subscribed is
   kept in localStorage. The browser counts as on when it has a subscription *and* that id is in the
   customer's list. Someone else signing in on the same browser therefore sees it off (the id is not in
   their list); turning it on moves the browser to them (the API knows a subscription by its endpoint). */
var AtriumPush = (function () {
  "use strict";

  var API = "/api/v1/messages";
  var STORE = "atrium.push.subscription";
  var READY_TIMEOUT_MS = 10000;
  var KINDS = { ok: "check", info: "info", warn: "alert", error: "alert" };

  function fromBase64url(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var text = atob(b64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function supported() {
    // iOS Safari has PushManager only in an app added to the Home Screen: in a tab, this says no.
    return !!(window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
              "Notification" in window);
  }

  // --- talking to the API ---------------------------------------------------------------------------
  function csrfHeaders() {
    // The page's CSRF token, where htmx finds it too: the body's hx-headers.
    var raw = document.body && document.body.getAttribute("hx-headers:inherited");
    try { return raw ? JSON.parse(raw) : {}; } catch (e) { return {}; }
  }

  // The browser's push service would not subscribe (a private window, no push service reachable).
  function Refused(cause) {
    this.name = cause && cause.name;
    this.cause = cause;
  }

  function Problem(status, body) {
    this.status = status;
    this.code = body && body.type ? String(body.type).split("/").pop() : "error";
    this.message = (body && (body.detail || body.title)) || "HTTP " + status;
  }

  function call(method, path, body) {
    var headers = csrfHeaders();
    headers["Accept"] = "application/json";
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) throw new Problem(response.status, data);
        return data;
      });
    });
  }

  // --- the browser's side ---------------------------------------------------------------------------
  function registration() {
    // app.js registers the worker at load; `ready` would wait forever if that failed.
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("the service worker did not start")); },
                             READY_TIMEOUT_MS);
      navigator.serviceWorker.ready.then(function (reg) { clearTimeout(timer); resolve(reg); },
                                         function (error) { clearTimeout(timer); reject(error); });
    });
  }

  function askPermission() {
    // Older Safari takes a callback instead of returning a promise.
    return new Promise(function (resolve) {
      var answer = Notification.requestPermission(resolve);
      if (answer && typeof answer.then === "function") answer.then(resolve);
    });
  }

  function sameKey(subscription, key) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true;  // the browser does not say which key: take it as the bank's
    var bytes = new Uint8Array(current);
    if (bytes.length !== key.length) return false;
    for (var i = 0; i < key.length; i++) if (bytes[i] !== key[i]) return false;
    return true;
  }

  function storedId() {
    try { return window.localStorage.getItem(STORE); } catch (e) { return null; }
  }

  function remember(id) {
    try {
      if (id) window.localStorage.setItem(STORE, id); else window.localStorage.removeItem(STORE);
    } catch (e) { /* storage blocked: this page will show the browser off next time, which is harmless */ }
  }

  // --- the control ----------------------------------------------------------------------------------
  function message(ui, key) {
    return ui.section.getAttribute("data-msg-" + key) || "";
  }

  function show(ui, kind, text) {
    var status = ui.status;
    Object.keys(KINDS).forEach(function (k) { status.classList.toggle("alert-" + k, k === kind); });
    var use = status.querySelector("use");
    if (use) {
      var href = use.getAttribute("href") || "";
      use.setAttribute("href", href.replace(/#.*$/, "") + "#" + KINDS[kind]);
    }
    ui.text.textContent = text;
  }

  function setBusy(ui, on) {
    ui.busy = on;
    ui.button.setAttribute("aria-disabled", on || ui.locked ? "true" : "false");
  }

  function unavailable(ui, key) {
    // Nothing the page can do (blocked, unsupported, switched off). A button that has the focus stays
    // focusable (aria-disabled) so the focus is not lost; otherwise it is disabled outright.
    show(ui, "warn", message(ui, key));
    ui.locked = true;
    if (document.activeElement === ui.button) ui.button.setAttribute("aria-disabled", "true");
    else ui.button.disabled = true;
  }

  function render(ui, on, noteKey) {
    ui.on = on;
    ui.label.textContent = message(ui, on ? "turn-off" : "turn-on");
    ui.button.classList.toggle("btn-primary", !on);
    ui.button.classList.toggle("btn-secondary", on);
    show(ui, on ? "ok" : "info", message(ui, noteKey || (on ? "on" : "off")));
    var mine = on ? storedId() : null;
    var others = ui.ids.filter(function (id) { return id !== mine; }).length;
    ui.others.textContent = others ? message(ui, "others").replace("{count}", String(others)) : "";
    ui.others.hidden = !others;
  }

  function failed(ui, error) {
    if (error instanceof Problem && error.status === 401) { show(ui, "error", message(ui, "signed-out")); return; }
    if (error instanceof Refused) {
      // Blocked since the page loaded (or by a policy): say how to allow it; else the push service's no.
      if (Notification.permission === "denied") unavailable(ui, "denied");
      else show(ui, "error", message(ui, "refused"));
      return;
    }
    show(ui, "error", message(ui, "error"));
  }

  function turnOn(ui) {
    var asked = Notification.permission === "granted" ? Promise.resolve("granted")
      : (show(ui, "info", message(ui, "asking")), askPermission());
    return asked.then(function (permission) {
      if (permission === "denied") { unavailable(ui, "denied"); return; }
      if (permission !== "granted") { show(ui, "warn", message(ui, "dismissed")); return; }
      show(ui, "info", message(ui, "working"));
      return registration().then(function (reg) {
        return reg.pushManager.getSubscription().then(function (existing) {
          // A subscription made with an older key of the bank's cannot be reused: subscribe afresh.
          if (existing && !sameKey(existing, ui.key)) return existing.unsubscribe().then(function () { return null; });
          return existing;
        }).then(function (existing) {
          if (existing) return existing;
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: ui.key })
            .catch(function (error) { throw new Refused(error); });
        });
      }).then(function (subscription) {
        return call("POST", "/push-subscriptions", subscription.toJSON());
      }).then(function (saved) {
        remember(saved.id);
        if (ui.ids.indexOf(saved.id) < 0) ui.ids.push(saved.id);
        render(ui, true, "turned-on");
      });
    });
  }

  function turnOff(ui) {
    var id = storedId();
    // The bank stops first: if that fails the browser is still on, and the page says so truthfully.
    var stopped = id ? call("DELETE", "/push-subscriptions/" + encodeURIComponent(id)) : Promise.resolve(null);
    return stopped.then(registration).then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      // Nothing is sent to it any more either way; a browser that fails to forget it costs nothing.
      return subscription ? subscription.unsubscribe().catch(function () { return false; }) : true;
    }).then(function () {
      remember(null);
      ui.ids = ui.ids.filter(function (other) { return other !== id; });
      render(ui, false, "turned-off");
    });
  }

  function toggle(ui) {
    if (ui.busy || ui.locked || ui.button.disabled) return;
    setBusy(ui, true);
    (ui.on ? turnOff(ui) : turnOn(ui)).catch(function (error) {
      failed(ui, error);
    }).then(function () {
      setBusy(ui, false);
    });
  }

  function check(ui) {
    if (!supported()) { unavailable(ui, "unsupported"); return; }
    if (Notification.permission === "denied") { unavailable(ui, "denied"); return; }
    Promise.all([call("GET", "/push-key"), call("GET", "/push-subscriptions"), registration()]).then(function (r) {
      var key = r[0], list = r[1], reg = r[2];
      // The page was drawn before the bank changed its mind: the API has the last word.
      if (!key.enabled) { unavailable(ui, "bank-off"); return; }
      if (!key.public_key) { unavailable(ui, "demo"); return; }
      ui.key = fromBase64url(key.public_key);
      ui.ids = list.map(function (s) { return s.id; });
      return reg.pushManager.getSubscription().then(function (subscription) {
        var id = storedId();
        render(ui, !!subscription && !!id && ui.ids.indexOf(id) >= 0);
        ui.button.disabled = false;
      });
    }).catch(function (error) {
      show(ui, "error", message(ui, error instanceof Problem && error.status === 401 ? "signed-out" : "check-failed"));
    });
  }

  function start() {
    document.querySelectorAll("[data-push-control]").forEach(function (section) {
      if (section.getAttribute("data-push-state") !== "ready") return;
      var ui = {
        section: section,
        status: section.querySelector("[data-push-status]"),
        text: section.querySelector("[data-push-text]"),
        others: section.querySelector("[data-push-others]"),
        button: section.querySelector("[data-push-toggle]"),
        label: section.querySelector("[data-push-label]"),
        key: null, ids: [], on: false, busy: false, locked: false
      };
      ui.button.addEventListener("click", function (event) {
        event.preventDefault();
        toggle(ui);
      });
      check(ui);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  return { supported: supported, fromBase64url: fromBase64url };
})();
