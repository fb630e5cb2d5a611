// A "Copy" button beside an address the admin pastes elsewhere (the survey completion
// address): copies the element named by data-copy-text. Hidden where scripts do not
// run or the clipboard is not available, so nothing is offered that does not work.
(function () {
  var buttons = document.querySelectorAll("[data-copy-text]");
  Array.prototype.forEach.call(buttons, function (button) {
    if (!navigator.clipboard) { return; }
    var source = document.getElementById(button.getAttribute("data-copy-text"));
    var status = document.getElementById(source.id + "-copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { if (status) { status.textContent = "Copied."; } },
        function () { if (status) { status.textContent = "Could not copy: select the address and copy it yourself."; } }
      );
    });
  });
})();
