/* Atrium device binding: this browser's ECDSA P-256 key, made with WebCrypto and kept in IndexedDB.
 *
 * The private key is created non-extractable: script (ours or anyone's) can ask it to sign, never read it.
 * The server knows the public key (SPKI, base64) and, once it has bound the key to a customer, a device id
 * ("dev_…") that is stored beside the key.
 *
 *   AtriumDevice.ensure()          -> Promise<{publicKey, deviceId|null}>   (creates the key on first use)
 *   AtriumDevice.sign(elements)    -> Promise<{canonical, signature}>       (elements: flat object of strings)
 *   AtriumDevice.fillForm(form)    sign-in: fills device_id, device_public_key, device_signature (over the
 *                                  form's device_nonce value)
 *   AtriumDevice.signForm(form)    a confirmation: fills sig_device_id, sig_time, sig_nonce, sig_signature
 *                                  over the elements named in data-sign-elements ("payee amount_minor
 *                                  currency", or "element=input_name" where the input is named otherwise)
 *   AtriumDevice.remember(id)      keeps the device id the server returned
 *   AtriumDevice.canonical(obj)    the canonical JSON text (keys sorted, no spaces) that is signed, UTF-8
 *
 * Wiring, without inline script: a form marked data-device-login is filled (fillForm) before it submits; a
 * form with data-sign-elements is signed (signForm) before it submits; an element carrying data-device-id (rendered
 * after a sign-in that bound this device) is remembered on load. Without WebCrypto or IndexedDB the forms
 * submit unsigned and the server asks for another factor instead.
 */
(function () {
  "use strict";

  var DB_NAME = "atrium-device";
  var STORE = "keys";
  var RECORD = "device";
  var KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
  var SIGN_ALGORITHM = { name: "ECDSA", hash: "SHA-256" };
  var ELEMENT_NAME = /^[a-z][a-z0-9_]{0,39}$/;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function openDb() {
    var req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = function () { req.result.createObjectStore(STORE); };
    return request(req);
  }

  function read(db) {
    return request(db.transaction(STORE, "readonly").objectStore(STORE).get(RECORD));
  }

  function write(db, record, insertOnly) {
    var store = db.transaction(STORE, "readwrite").objectStore(STORE);
    return request(insertOnly ? store.add(record, RECORD) : store.put(record, RECORD));
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }

  function randomNonce() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function createRecord() {
    var pair = await crypto.subtle.generateKey(KEY_ALGORITHM, false, ["sign", "verify"]);
    var spki = await crypto.subtle.exportKey("spki", pair.publicKey);
    return { privateKey: pair.privateKey, publicKey: toBase64(spki), deviceId: null };
  }

  var loading = null;

  // The one key record of this browser profile, created on first use. Two tabs racing to create it: the
  // first `add` wins and the other tab reads the winner's record.
  function load() {
    if (!loading) {
      loading = (async function () {
        var db = await openDb();
        var record = await read(db);
        if (record) return record;
        record = await createRecord();
        try {
          await write(db, record, true);
          return record;
        } catch (err) {
          var stored = await read(db);
          if (stored) return stored;
          throw err;
        }
      })();
      loading.catch(function () { loading = null; });
    }
    return loading;
  }

  function canonical(elements) {
    var keys = Object.keys(elements).sort();
    var parts = keys.map(function (key) {
      var value = elements[key];
      if (!ELEMENT_NAME.test(key)) throw new TypeError("element names are lower-case identifiers: " + key);
      if (typeof value !== "string") throw new TypeError("element values are strings: " + key);
      return JSON.stringify(key) + ":" + JSON.stringify(value);
    });
    return "{" + parts.join(",") + "}";
  }

  async function signText(text) {
    var record = await load();
    var data = new TextEncoder().encode(text);
    var signature = await crypto.subtle.sign(SIGN_ALGORITHM, record.privateKey, data);
    return toBase64(signature);
  }

  async function ensure() {
    var record = await load();
    return { publicKey: record.publicKey, deviceId: record.deviceId || null };
  }

  async function sign(elements) {
    var text = canonical(elements);
    return { canonical: text, signature: await signText(text) };
  }

  async function remember(deviceId) {
    if (!/^dev_[0-9A-Z]+$/.test(deviceId || "")) return;
    var record = await load();
    if (record.deviceId === deviceId) return;
    record.deviceId = deviceId;
    await write(await openDb(), record, false);
  }

  function field(form, name) {
    var input = form.elements.namedItem(name);
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    return input;
  }

  async function fillForm(form) {
    var nonce = form.elements.namedItem("device_nonce");
    var device = await ensure();
    field(form, "device_public_key").value = device.publicKey;
    field(form, "device_id").value = device.deviceId || "";
    field(form, "device_signature").value = nonce && nonce.value ? await signText(nonce.value) : "";
  }

  function signedElements(form) {
    var spec = (form.getAttribute("data-sign-elements") || "").split(/[\s,]+/).filter(Boolean);
    var elements = {};
    spec.forEach(function (entry) {
      var pair = entry.split("=");
      var input = form.elements.namedItem(pair[1] || pair[0]);
      if (!input) throw new Error("the form has no input for the element " + pair[0]);
      elements[pair[0]] = String(input.value);
    });
    elements.time = new Date().toISOString();
    elements.nonce = randomNonce();
    return elements;
  }

  async function signForm(form) {
    var device = await ensure();
    if (!device.deviceId) return null;  // not bound yet: the server confirms by another factor
    var elements = signedElements(form);
    var signed = await sign(elements);
    field(form, "sig_device_id").value = device.deviceId;
    field(form, "sig_time").value = elements.time;
    field(form, "sig_nonce").value = elements.nonce;
    field(form, "sig_signature").value = signed.signature;
    return signed;
  }

  var supported = !!(window.crypto && crypto.subtle && window.indexedDB);

  // Sign, then submit for real (requestSubmit keeps the pressed button's name and value). A failure is
  // not fatal: the form goes unsigned and the server falls back to another factor.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || form.dataset.deviceSigned === "1" || !supported) return;
    var login = form.hasAttribute("data-device-login");
    var confirm = form.hasAttribute("data-sign-elements");
    if (!login && !confirm) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    (login ? fillForm(form) : signForm(form)).catch(function () { /* submit unsigned */ }).then(function () {
      form.dataset.deviceSigned = "1";
      // In a new task: a submission requested while this submit event is still being dispatched (signing
      // can finish within its microtasks) is silently ignored by the browser.
      setTimeout(function () {
        if (submitter && form.requestSubmit) form.requestSubmit(submitter);
        else if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }, 0);
    });
  }, true);

  // After a back/forward navigation the form must be signed afresh.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-device-signed]").forEach(function (form) {
      delete form.dataset.deviceSigned;
    });
  });

  function rememberFromPage() {
    var marker = document.querySelector("[data-device-id]");
    if (marker && supported) remember(marker.getAttribute("data-device-id")).catch(function () {});
    document.documentElement.setAttribute("data-device-ready", supported ? "yes" : "no");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", rememberFromPage);
  else rememberFromPage();

  window.AtriumDevice = {
    supported: supported,
    ensure: ensure,
    sign: sign,
    canonical: canonical,
    fillForm: fillForm,
    signForm: signForm,
    remember: remember,
  };
})();
