/* QR pay scanner: the camera with the browser's BarcodeDetector where it exists; otherwise (and always)
   the payload can be pasted, or uploaded as a text file or a photo of the code. Finding a code fills the
   form and submits it: the server verifies the signature before anything is shown. */
(function () {
  "use strict";
  var root = document.querySelector("[data-qr-scanner]");
  var form = document.getElementById("qr-form");
  if (!root || !form) return;
  var video = document.getElementById("qr-video");
  var startButton = root.querySelector("[data-qr-start]");
  var status = root.querySelector("[data-qr-status]");
  var frame = root.querySelector("[data-qr-frame]");
  var idle = root.querySelector("[data-qr-idle]");
  var textarea = form.querySelector("textarea[name=payload]");
  var fileInput = form.querySelector("[data-qr-file]");
  var live = document.getElementById("live");
  var detector = null;
  var stream = null;

  function say(text) {
    status.textContent = text;
    if (live) live.textContent = text;
  }

  function found(payload) {
    textarea.value = payload.trim();
    say(status.dataset.found);
    stop();
    form.requestSubmit();
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
  }

  if ("BarcodeDetector" in window) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) { say(status.dataset.unsupported); return; }
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) startButton.hidden = false;
    }).catch(function () { say(status.dataset.unsupported); });
  } else {
    say(status.dataset.unsupported);
  }

  function scanFrame() {
    if (!stream || !detector) return;
    detector.detect(video).then(function (codes) {
      if (codes.length) { found(codes[0].rawValue); return; }
      window.requestAnimationFrame(scanFrame);
    }).catch(function () { window.setTimeout(scanFrame, 250); });
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      frame.hidden = false;
      idle.hidden = true;
      startButton.hidden = true;
      say(status.dataset.scanning);
      return video.play().then(scanFrame);
    }).catch(function () { say(status.dataset.denied); });
  });

  // Upload: a text file holding the payload, or (with BarcodeDetector) a photo or screenshot of the code.
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    if (file.type.indexOf("text/") === 0 || /\.txt$/i.test(file.name)) {
      file.text().then(function (text) { if (text.trim()) found(text); });
      return;
    }
    if (!detector) { say(status.dataset.unsupported); return; }
    window.createImageBitmap(file).then(function (bitmap) { return detector.detect(bitmap); }).then(function (codes) {
      if (codes.length) found(codes[0].rawValue); else say(status.dataset.unsupported);
    }).catch(function () { say(status.dataset.unsupported); });
  });

  window.addEventListener("pagehide", stop);
})();
