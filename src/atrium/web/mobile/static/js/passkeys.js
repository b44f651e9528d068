/* Atrium passkeys: register, sign in and confirm (step up) with WebAuthn. No framework, no inline code:
   elements opt in with data- attributes —
     [data-passkey-login]           a button; signs in and goes to its data-next (a path on this site)
     [data-passkey-register-form]   a form with an input[name=name]; registers a passkey under that name
     [data-passkey-remove]          a button whose value is the credential id; removes it (with a step-up)
     form[data-stepup-passkey]      the step-up page's passkey form (value: the step-up challenge); completes
                                    the challenge with a passkey, then submits the form
   Messages live on the nearest [data-passkey-messages] element as data-msg-<key> attributes, and status
   goes to the nearest [data-passkey-status] region (role=status / aria-live). */
var AtriumPasskeys = (function () {
  "use strict";

  var API = "/api/v1/auth";
  var STEP_UP_HEADER = "Atrium-Step-Up";

  // --- base64url <-> ArrayBuffer ---------------------------------------------------------------------
  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var text = atob(b64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
  }

  // --- talking to the API ---------------------------------------------------------------------------
  function csrfHeaders() {
    // The page's CSRF token, where htmx finds it too: the body's hx-headers.
    var raw = document.body && document.body.getAttribute("hx-headers:inherited");
    try { return raw ? JSON.parse(raw) : {}; } catch (e) { return {}; }
  }

  function Problem(status, body) {
    this.status = status;
    this.code = body && body.type ? String(body.type).split("/").pop() : "error";
    this.body = body || {};
    this.message = (body && (body.detail || body.title)) || "HTTP " + status;
  }

  function call(method, path, body, extraHeaders) {
    var headers = csrfHeaders();
    headers["Accept"] = "application/json";
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
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

  // --- WebAuthn JSON <-> browser objects ----------------------------------------------------------
  function creationOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    o.excludeCredentials = (json.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromBase64url(c.id) });
    });
    return o;
  }

  function requestOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.allowCredentials = (json.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromBase64url(c.id) });
    });
    return o;
  }

  function registrationJSON(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON),
        attestationObject: toBase64url(r.attestationObject),
        transports: typeof r.getTransports === "function" ? r.getTransports() : []
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function assertionJSON(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON),
        authenticatorData: toBase64url(r.authenticatorData),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function assert(optionsJSON) {
    return navigator.credentials.get({ publicKey: requestOptions(optionsJSON) }).then(assertionJSON);
  }

  // Complete a step-up challenge (RFC 9470 style, from a step-up-required problem) with a passkey.
  function stepUp(challenge) {
    return call("POST", "/step-up/passkey-options", { challenge: challenge })
      .then(assert)
      .then(function (credential) {
        return call("POST", "/step-up", { challenge: challenge, method: "passkey", credential: credential });
      });
  }

  // Run `attempt(headers)`; when it answers step-up-required and a passkey may complete the challenge,
  // confirm with the passkey and run it once more with the completed challenge.
  function withStepUp(attempt) {
    return attempt({}).catch(function (problem) {
      var methods = (problem && problem.body && problem.body.methods) || [];
      if (!(problem instanceof Problem) || problem.code !== "step-up-required" || methods.indexOf("passkey") < 0) {
        throw problem;
      }
      var challenge = problem.body.challenge;
      return stepUp(challenge).then(function () {
          var headers = {};
          headers[STEP_UP_HEADER] = challenge;
          return attempt(headers);
        });
    });
  }

  // --- the three use cases ----------------------------------------------------------------------------
  function register(name) {
    return withStepUp(function (headers) {
      return call("POST", "/passkeys/registration-options", undefined, headers).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (cred) {
        return call("POST", "/passkeys", { name: name, credential: registrationJSON(cred) }, headers);
      });
    });
  }

  function remove(credentialId) {
    return withStepUp(function (headers) {
      return call("DELETE", "/passkeys/" + encodeURIComponent(credentialId), undefined, headers);
    });
  }

  function safeNext(next) {
    // Only a path on this site (no open redirect), like the server's safe_next.
    if (!next || next.charAt(0) !== "/" || next.charAt(1) === "/" || next.indexOf("\\") >= 0) return "/";
    return next;
  }

  function login(next) {
    return call("POST", "/passkey-login/options", {}).then(assert).then(function (credential) {
      return call("POST", "/passkey-login", { credential: credential, client: "mobile" });
    }).then(function (session) {
      window.location.assign(safeNext(next));
      return session;
    });
  }

  // --- wiring the page ------------------------------------------------------------------------------
  // Used only where a page carries no [data-passkey-messages] (the page's own texts come first).
  var FALLBACK = {
    zh: { busy: "请按设备上的提示操作…", cancelled: "通行密钥请求已取消或超时。", error: "通行密钥出现问题，请重试。",
          unsupported: "此浏览器不支持通行密钥。" },
    en: { busy: "Follow the instructions from your device…", cancelled: "The passkey request was cancelled or timed out.",
          error: "Something went wrong with the passkey. Please try again.",
          unsupported: "This browser does not support passkeys." }
  };

  function message(el, key, fallback) {
    var holder = el.closest("[data-passkey-messages]") || document.querySelector("[data-passkey-messages]");
    var text = holder && holder.getAttribute("data-msg-" + key);
    if (text) return text;
    if (fallback) return fallback;
    var lang = (document.documentElement.lang || "zh").slice(0, 2) === "en" ? "en" : "zh";
    return FALLBACK[lang][key] || FALLBACK[lang].error;
  }

  function explain(el, error) {
    if (error && error.name === "NotAllowedError") return message(el, "cancelled");
    if (error && error.name === "InvalidStateError") return message(el, "passkey-exists");
    if (error instanceof Problem) return message(el, error.code, message(el, "error") + " (" + error.message + ")");
    return message(el, "error");
  }

  function status(el, text, isError) {
    // The form's own status region when it has one (next to its field), else the page's.
    var form = el.closest("form");
    var region = (form && form.querySelector("[data-passkey-status]")) ||
      (el.closest("[data-passkey-scope]") || document).querySelector("[data-passkey-status]");
    if (!region) return;
    region.textContent = text;
    region.classList.toggle("alert", !!text);
    region.classList.toggle("alert-error", !!isError);
    region.classList.toggle("alert-info", !isError);
    region.hidden = !text;
  }

  function busy(button, on) {
    if (button) button.setAttribute("aria-disabled", on ? "true" : "false");
  }

  function run(button, work, done) {
    if (button.getAttribute("aria-disabled") === "true") return;
    if (!supported()) { status(button, message(button, "unsupported"), true); return; }
    busy(button, true);
    status(button, message(button, "busy"), false);
    work().then(function (result) {
      done(result);
    }).catch(function (error) {
      busy(button, false);
      status(button, explain(button, error), true);
    });
  }

  function reloadWith(done) {
    window.location.assign(window.location.pathname + "?done=" + done);
  }

  document.addEventListener("click", function (event) {
    var loginButton = event.target.closest("[data-passkey-login]");
    if (loginButton) {
      event.preventDefault();
      run(loginButton, function () { return login(loginButton.getAttribute("data-next")); }, function () {});
      return;
    }
    var removeButton = event.target.closest("[data-passkey-remove]");
    if (removeButton) {
      event.preventDefault();
      run(removeButton, function () { return remove(removeButton.value); }, function () { reloadWith("removed"); });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-stepup-passkey]")) {
      if (form.getAttribute("data-stepup-done") === "1") return;
      event.preventDefault();
      var challenge = form.getAttribute("data-stepup-passkey");
      run(form.querySelector("button[type=submit]") || form, function () { return stepUp(challenge); }, function () {
        form.setAttribute("data-stepup-done", "1");
        form.submit();
      });
      return;
    }
    if (!form.matches || !form.matches("[data-passkey-register-form]")) return;
    event.preventDefault();
    var input = form.querySelector("input[name=name]");
    var name = input ? input.value.trim() : "";
    if (!name) {
      status(form, message(form, "name-required"), true);
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      return;
    }
    if (input) input.removeAttribute("aria-invalid");
    run(form.querySelector("button[type=submit]") || form, function () { return register(name); }, function () {
      reloadWith("added");
    });
  });

  // Passkeys need WebAuthn: without it, say so instead of offering buttons that cannot work.
  function markSupport() {
    document.querySelectorAll("[data-passkey-scope]").forEach(function (scope) {
      scope.setAttribute("data-passkeys", supported() ? "supported" : "unsupported");
      if (!supported()) {
        scope.querySelectorAll("[data-passkey-login], [data-passkey-register-form] button[type=submit]")
          .forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
        status(scope, message(scope, "unsupported"), false);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", markSupport);
  else markSupport();

  return { register: register, login: login, remove: remove, stepUp: stepUp, supported: supported,
           toBase64url: toBase64url, fromBase64url: fromBase64url };
})();
