// Live preview of a bulletin's Markdown: as the editor types, the server renders and
// sanitises the body (the same code a send uses) and lists what to look at.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-preview]");
  if (!form) { return; }
  var source = form.querySelector("#body_markdown");
  var target = document.getElementById("body-preview");
  var box = document.getElementById("body-warnings-box");
  var list = document.getElementById("body-warnings");
  var status = document.getElementById("preview-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var latest = 0;

  function show(data) {
    target.innerHTML = data.html; // sanitised by the server (nh3)
    list.replaceChildren();
    data.warnings.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    box.hidden = data.warnings.length === 0;
    status.textContent = "";
  }

  function update() {
    var ticket = ++latest;
    var body = new URLSearchParams();
    body.set("body_markdown", source.value);
    fetch(form.dataset.livePreview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token },
      body: body
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (ticket === latest) { show(data); }
    }).catch(function () {
      status.textContent = "The preview could not be updated; your text is safe, save it to see it.";
    });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
})();
