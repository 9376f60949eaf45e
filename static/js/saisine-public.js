/*
 * Public saisine pages: the "copy the link" button of the confirmation page.
 * Without JavaScript the button stays hidden and the link can be selected by hand.
 */
(function () {
  "use strict";

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      input.select();
      var done = function () {
        if (status) {
          status.textContent = button.dataset.copiedText;
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          if (status) {
            status.textContent = button.dataset.failedText;
          }
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
