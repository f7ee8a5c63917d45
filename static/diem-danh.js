// Attendance by camera: where the browser has BarcodeDetector, a button opens the camera, a QR code
// read fills the field and sends the form. Without it (or without JavaScript) the field is typed.
(function () {
  "use strict";
  var box = document.getElementById("quet");
  var form = document.getElementById("diem-danh");
  if (!box || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  box.hidden = false;
  var video = document.getElementById("quet-video");
  var field = form.querySelector("input[name=ma]");
  document.getElementById("quet-bat").addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length > 0) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            field.value = codes[0].rawValue;
            form.submit();
          } else {
            window.setTimeout(tick, 250);
          }
        }, function () { window.setTimeout(tick, 500); });
      };
      tick();
    }, function () { field.focus(); });
  });
})();
