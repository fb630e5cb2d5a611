// The audience builder's live count: as lists, types, tags and areas are chosen, the
// server counts who the audience reaches (POST /admin/audience/count) and the polite
// live region says it. Choosing a saved audience fills the builder from it. Without
// this script the builder's "Count" and "Use it" buttons do the same by a round trip.
(function () {
  "use strict";
  var OWN = { segment_id: true, segment_name: true, audience_next: true, audience_action: true };
  var ID_FIELDS = { list_ids: "lists", type_ids: "organisation_types", exclude_list_ids: "exclude_lists" };
  var WORD_FIELDS = { tags: "tags", areas: "areas" };

  function number(n) { return Number(n).toLocaleString("en-GB"); }

  function paragraph(text, className) {
    var p = document.createElement("p");
    if (className) { p.className = className; }
    p.textContent = text;
    return p;
  }

  function show(region, data) {
    var parts = [];
    if (data.empty) {
      parts.push(paragraph("Choose at least one list or organisation type to see who it reaches."));
    } else {
      var first = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = number(data.reachable);
      first.appendChild(strong);
      first.appendChild(document.createTextNode(
        " " + (data.reachable === 1 ? "person" : "people") + " would receive it, of " +
        number(data.total) + " in the audience."));
      parts.push(first);
      var reasons = Object.keys(data.left_out).map(function (why) {
        return number(data.left_out[why]) + " " + why;
      });
      if (reasons.length) { parts.push(paragraph("Left out: " + reasons.join(", ") + ".")); }
      if (data.sample.length) {
        parts.push(paragraph("For example: " + data.sample.join("; ") + ".", "hint"));
      }
    }
    region.replaceChildren.apply(region, parts);
  }

  function choices(box) {
    var body = new URLSearchParams();
    box.querySelectorAll("input, select").forEach(function (field) {
      if (!field.name || field.disabled || OWN[field.name]) { return; }
      if ((field.type === "checkbox" || field.type === "radio") && !field.checked) { return; }
      if (field.value.trim() === "") { return; }
      body.append(field.name, field.value);
    });
    return body;
  }

  // Fill the builder with a saved audience's choices, as the server returned them.
  function fill(box, audience) {
    Object.keys(ID_FIELDS).forEach(function (name) {
      var wanted = (audience[ID_FIELDS[name]] || []).map(String);
      box.querySelectorAll("input[type=checkbox][name=" + name + "]").forEach(function (field) {
        field.checked = wanted.indexOf(field.value) !== -1;
      });
    });
    Object.keys(WORD_FIELDS).forEach(function (name) {
      var wanted = (audience[WORD_FIELDS[name]] || []);
      var left = wanted.slice();
      box.querySelectorAll("input[type=checkbox][name=" + name + "]").forEach(function (field) {
        var key = field.value.toLowerCase();
        var found = wanted.some(function (w) { return w.toLowerCase() === key; });
        field.checked = found;
        left = left.filter(function (w) { return w.toLowerCase() !== key; });
      });
      var more = box.querySelector("input[list][name=" + name + "]");
      if (more) { more.value = left.join("; "); }
    });
    var exclude = box.querySelector("details.audience-exclude");
    if (exclude && (audience.exclude_lists || []).length) { exclude.open = true; }
  }

  function setup(box) {
    var url = box.getAttribute("data-audience-count");
    var token = box.getAttribute("data-csrf");
    var region = box.querySelector("[data-audience-summary]");
    var timer = null;
    var latest = 0;

    function ask(body, then) {
      var ticket = ++latest;
      region.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Accept": "application/json" },
        body: body
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (ticket !== latest) { return; }
        region.removeAttribute("aria-busy");
        if (!answer.ok) {
          region.replaceChildren(paragraph(answer.data.error || "The audience could not be counted."));
          return;
        }
        if (then) { then(answer.data); }
        show(region, answer.data);
      }).catch(function () {
        if (ticket !== latest) { return; }
        region.removeAttribute("aria-busy");
        region.replaceChildren(paragraph(
          "The count could not be updated; use the Count button to count again."));
      });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(function () { ask(choices(box)); }, 300);
    }

    box.addEventListener("change", function (event) {
      var field = event.target;
      if (field.name === "segment_id") {
        if (!field.value) { return; }
        clearTimeout(timer);
        var body = new URLSearchParams();
        body.set("segment_id", field.value);
        body.set("audience_action", "use_segment");
        ask(body, function (data) { fill(box, data.audience); });
        return;
      }
      if (OWN[field.name]) { return; }
      later();
    });
    box.addEventListener("input", function (event) {
      var field = event.target;
      if (field.type === "text" || field.hasAttribute("list")) {
        if (!OWN[field.name]) { later(); }
      }
    });
  }

  document.querySelectorAll("[data-audience-count]").forEach(setup);
})();
