// The composer: the whole message as it will arrive, beside the text, as the writer
// types. The unsaved form is posted (with its CSRF token) to the server, which renders
// it the way a send does; nothing is saved by previewing. The message loads into a
// sandboxed frame from its own address (the admin's policy would strip an email's
// inline styles from a srcdoc frame); the warnings come as JSON.
(function () {
  "use strict";
  var section = document.getElementById("composer");
  if (!section) { return; }
  var form = section.closest("form");
  var token = form.querySelector("input[name=csrf_token]").value;
  var status = document.getElementById("preview-status");
  var box = document.getElementById("body-warnings-box");
  var list = document.getElementById("body-warnings");
  var notes = document.getElementById("composer-notes");
  var search = document.getElementById("composer-as");
  var options = document.getElementById("composer-contacts");
  var chosen = document.getElementById("composer-contact");
  var shownAs = document.getElementById("composer-shown-as");
  var timer = null;
  var latest = 0;
  var found = {};
  var frames = 0;

  function fields() {
    var data = new FormData(form);
    var params = new URLSearchParams();
    data.forEach(function (value, name) {
      if (typeof value === "string") { params.append(name, value); }
    });
    params.set("contact", chosen.value);
    return params;
  }

  function switchOff(name) {
    var box = document.getElementById("block-" + name + "-on");
    if (!box) { return; }
    box.checked = false;
    status.textContent = "The template's " + box.labels[0].textContent.toLowerCase() +
      " is switched off; your own words stay. Save to keep it.";
    schedule(0);
  }

  function keyOf(warning) {
    return warning.message + "|" + (warning.block || "");
  }

  function showWarnings(data) {
    box.hidden = data.warnings.length === 0;
    var shown = Array.prototype.map.call(list.children, function (item) {
      return item.getAttribute("data-key");
    });
    // The same list as shown (as the page came, say): kept as it is, so its buttons
    // keep their place in the Tab order and a focused one keeps the focus.
    if (shown.join("\n") !== data.warnings.map(keyOf).join("\n")) {
      listWarnings(data);
    }
    showNotes(data);
  }

  function listWarnings(data) {
    list.replaceChildren();
    data.warnings.forEach(function (warning) {
      var item = document.createElement("li");
      item.setAttribute("data-key", keyOf(warning));
      item.textContent = warning.message;
      var toggle = warning.block && form.querySelector("[data-block='" + warning.block + "']");
      if (toggle && !toggle.disabled) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button-secondary";
        button.textContent = "Switch the template's " + warning.label + " off";
        button.addEventListener("click", function () { switchOff(warning.block); });
        item.appendChild(document.createElement("br"));
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  function showNotes(data) {
    notes.replaceChildren();
    data.notes.forEach(function (text) {
      var note = document.createElement("p");
      note.className = "flash flash-info";
      note.textContent = text;
      notes.appendChild(note);
    });
    notes.hidden = data.notes.length === 0;
  }

  // A fresh frame for every update: its first load replaces about:blank, so the Back
  // button is not filled with previews (reloading one frame would add an entry each
  // time). The frame keeps its height meanwhile, so the page does not jump.
  function loadFrame(params) {
    var old = document.getElementById("composer-frame");
    var ticket = ++frames;
    var frame = document.createElement("iframe");
    frame.className = old.className;
    frame.title = old.title;
    frame.name = "composer-frame-" + ticket;
    frame.id = "composer-frame";
    frame.setAttribute("sandbox", "");
    frame.tabIndex = 0; // reachable (and scrollable) by keyboard, even while it loads
    old.replaceWith(frame);
    var post = document.createElement("form");
    post.method = "post";
    post.action = section.dataset.frame;
    post.target = frame.name;
    post.hidden = true;
    params.forEach(function (value, key) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = key;
      input.value = value;
      post.appendChild(input);
    });
    document.body.appendChild(post);
    frame.addEventListener("load", function () {
      post.remove();
      section.dataset.loaded = String(ticket);
    }, { once: true });
    post.submit();
  }

  function update() {
    var ticket = ++latest;
    var params = fields();
    fetch(section.dataset.check, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token },
      body: params
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (ticket === latest) { showWarnings(data); }
    }).catch(function () {
      status.textContent = "The preview could not be updated; your text is safe, save it to see it.";
    });
    loadFrame(params);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(update, delay);
  }

  form.addEventListener("input", function (event) {
    if (event.target === search) { return; }
    schedule(400);
  });
  form.addEventListener("change", function (event) {
    if (event.target === search) { return; }
    schedule(100);
  });

  // The contact picker: search by name or email; the choice shows the message as them.
  var lookup = null;
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); } // never saves the form
  });
  search.addEventListener("input", function () {
    var typed = search.value.trim();
    if (found[search.value]) {
      chosen.value = found[search.value];
      shownAs.textContent = "Shown as " + search.value + ".";
      schedule(0);
      return;
    }
    if (typed === "") {
      chosen.value = "";
      shownAs.textContent = "Shown as a sample recipient with no name.";
      schedule(0);
      return;
    }
    clearTimeout(lookup);
    lookup = setTimeout(function () {
      var url = section.dataset.contacts + "?q=" + encodeURIComponent(typed);
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.json() : { contacts: [] };
      }).then(function (data) {
        options.replaceChildren();
        data.contacts.forEach(function (contact) {
          found[contact.label] = String(contact.id);
          var option = document.createElement("option");
          option.value = contact.label;
          options.appendChild(option);
        });
      });
    }, 250);
  });

  // The list as the page came offers the same switch for what was saved.
  document.querySelectorAll("[data-block-off]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { switchOff(button.dataset.blockOff); });
  });

  schedule(0);
})();
