// Upload with a progress bar (bytes sent), then show the row report without leaving the page.
// Without JavaScript the form posts normally and the page shows the same report.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var script = document.currentScript;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    bar.hidden = false;
    bar.value = 0;
    status.textContent = script.dataset.sending;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    };
    xhr.upload.onload = function () {
      bar.value = 100;
      status.textContent = script.dataset.processing;
    };
    xhr.onload = function () {
      var target = document.getElementById("upload-result");
      status.textContent = "";
      if (xhr.status === 200) {
        target.outerHTML = xhr.responseText;
      } else {
        target.innerHTML = '<p class="notice bad">' + script.dataset.failed + " (" + xhr.status + ")</p>";
      }
    };
    xhr.onerror = function () { status.textContent = script.dataset.failed; };
    xhr.send(new FormData(form));
  });
})();
