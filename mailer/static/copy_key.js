// The page showing a new API key: copy it to the clipboard. The button stays hidden
// where scripts (or the clipboard) do not work; the key can still be selected.
(function () {
  var copy = document.querySelector("[data-copy-key]");
  var status = document.getElementById("copy-status");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.getAttribute("data-copy-key")).textContent.trim();
      navigator.clipboard.writeText(text).then(
        function () { status.textContent = "Copied."; },
        function () { status.textContent = "Could not copy: select the key and copy it yourself."; }
      );
    });
  }
})();
