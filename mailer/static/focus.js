// The field or message marked data-focus-on-load takes the focus once the page has
// loaded, on pages outside the admin that ask for it (the second step of signing in): a
// person can type at once, and a screen reader reads the
// field with the error beside it. Waiting for "load" matters: some browsers move the
// focus themselves once the page has loaded, which would take it from the field again.
// Admin pages also run unsaved.js, which does the same; focusing twice is harmless.
(function () {
  "use strict";

  function focusMarked() {
    var marked = document.querySelector("[data-focus-on-load]");
    if (marked && document.activeElement !== marked) {
      marked.focus();
    }
  }
  if (document.readyState === "complete") {
    setTimeout(focusMarked, 0);
  } else {
    window.addEventListener("load", function () {
      setTimeout(focusMarked, 0);
    });
  }
})();
