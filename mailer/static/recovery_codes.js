// The recovery codes page: copy the codes as text, or print the page. The buttons stay
// hidden where scripts do not run, so nothing is offered that does not work.
(function () {
  var copy = document.querySelector("[data-copy-codes]");
  var print = document.querySelector("[data-print-page]");
  var status = document.getElementById("copy-status");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var list = document.getElementById(copy.getAttribute("data-copy-codes"));
      var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
        return c.textContent.trim();
      });
      navigator.clipboard.writeText(codes.join("\n") + "\n").then(
        function () { status.textContent = "Copied: paste them somewhere safe."; },
        function () { status.textContent = "Could not copy: select the codes and copy them yourself."; }
      );
    });
  }
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
