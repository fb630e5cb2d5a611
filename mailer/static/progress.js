// Keeps a running send's counts current without reloading the page.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) { return; }
  var note = document.getElementById("progress-note");
  var finished = ["done", "cancelled"];

  function tick() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        box.querySelectorAll("[data-field]").forEach(function (element) {
          var value = data[element.dataset.field];
          if (value !== undefined) { element.textContent = String(value); }
        });
        note.textContent = "";
        if (finished.indexOf(data.state) === -1) { setTimeout(tick, 3000); }
      })
      .catch(function () {
        note.textContent = "Could not refresh the counts; reload the page to see them.";
      });
  }
  setTimeout(tick, 3000);
})();
