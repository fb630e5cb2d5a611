// Nothing typed is lost: the admin forms' small helpers (included by admin/base.html).
//
// 1. Leaving a page with unsaved changes asks first (beforeunload). A form counts when
//    it posts and a field differs from what the page was sent with, or when the page
//    came back with its words unsaved (data-unsaved, or a field marked invalid). Sending
//    a form is not leaving it.
// 2. A file over the limit is refused before it is sent (data-max-bytes on the file
//    input: the room left; data-limit-bytes: the whole limit). The server says the
//    same without this script. A button marked data-file="<input id>" (Attach) is then
//    not sent with the input emptied: the limit stays said beside the input, not
//    replaced by the server's "Choose a file to attach.".
// 3. A message about what just happened (data-focus-on-load) takes the focus, so the
//    screen reader reads it and the page shows it.
// 4. Enter in a field marked data-enter presses the button it names.
(function () {
  "use strict";

  var sending = false;
  var TYPED = "input:not([type=hidden]):not([type=submit]):not([type=button]), textarea, select";

  function changed(field) {
    if (field.disabled || field.readOnly) {
      return false;
    }
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      // A single choice with no option marked selected starts on its first one.
      var marked = Array.prototype.some.call(field.options, function (option) {
        return option.defaultSelected;
      });
      return Array.prototype.some.call(field.options, function (option, index) {
        var initially = marked || field.multiple ? option.defaultSelected : index === 0;
        return option.selected !== initially;
      });
    }
    if (field.type === "file") {
      return field.value !== "";
    }
    return field.value !== field.defaultValue;
  }

  function typedFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.matches && field.matches(TYPED);
    });
  }

  function postingForms() {
    return Array.prototype.filter.call(document.forms, function (form) {
      return (form.getAttribute("method") || "get").toLowerCase() === "post" &&
        !form.hasAttribute("data-unsaved-ignore") && typedFields(form).length > 0;
    });
  }

  // A form sent back with a field marked invalid holds words that were not saved.
  function cameBackUnsaved(form) {
    return form.getAttribute("data-unsaved") === "true" ||
      typedFields(form).some(function (field) {
        return field.getAttribute("aria-invalid") === "true";
      });
  }

  function unsaved() {
    return postingForms().some(function (form) {
      return cameBackUnsaved(form) || typedFields(form).some(changed);
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (!sending && unsaved()) {
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to ask
    }
  });

  // On window, so after the other submit listeners (confirm.js): a cancelled
  // submission is still unsaved.
  window.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) {
      sending = true;
    }
  });

  // A page brought back from the browser's history is being looked at again.
  window.addEventListener("pageshow", function () {
    sending = false;
  });

  function megabytes(bytes) {
    var shown = (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "");
    return shown + " MB";
  }

  function errorFor(input) {
    var id = input.id + "-error";
    var found = document.getElementById(id);
    if (!found) {
      found = document.createElement("p");
      found.id = id;
      found.className = "error-message";
      found.setAttribute("role", "alert");
      found.tabIndex = -1;
      input.parentNode.insertBefore(found, input);
    }
    return found;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]") || !input.files) {
      return;
    }
    var room = Number(input.getAttribute("data-max-bytes"));
    var limit = Number(input.getAttribute("data-limit-bytes") || room);
    var file = input.files[0];
    var message = errorFor(input);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== message.id;
    });
    if (file && file.size > room) {
      var said = "The file is " + megabytes(file.size) + "; the limit is " + megabytes(limit) + ".";
      if (room < limit) {
        said += " Only " + megabytes(room) + " of it is left on this message.";
      }
      message.textContent = "Not attached: " + said + " Choose a smaller file.";
      message.hidden = false;
      input.value = "";
      input.setAttribute("data-refused", message.textContent);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", described.concat([message.id]).join(" "));
      message.focus();
    } else {
      message.hidden = true;
      message.textContent = "";
      input.removeAttribute("data-refused");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", described.join(" "));
    }
  });

  // On document, so before the window's listener above: a stopped send is no leaving.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var id = button && button.getAttribute("data-file");
    var input = id && document.getElementById(id);
    var refused = input && input.getAttribute("data-refused");
    if (refused && !(input.files && input.files.length)) {
      event.preventDefault();
      var message = errorFor(input);
      message.textContent = refused;
      message.hidden = false;
      message.focus();
    }
  });

  // Enter in a field that belongs to a bigger form (Attach's title box belongs to the
  // compose form) presses the button of its own section (data-enter), not the form's
  // first one (Save).
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    var target = event.key === "Enter" && field.getAttribute && field.getAttribute("data-enter");
    var button = target && document.getElementById(target);
    if (button && field.tagName === "INPUT") {
      event.preventDefault();
      button.click();
    }
  });

  // After the load: going to the page's #section moves the focus to that section
  // once the page has loaded, which would take it from the message again.
  function focusNote() {
    var note = document.querySelector("[data-focus-on-load]");
    if (note) {
      note.focus();
    }
  }
  if (document.readyState === "complete") {
    setTimeout(focusNote, 0);
  } else {
    window.addEventListener("load", function () {
      setTimeout(focusNote, 0);
    });
  }
})();
