// dealreg: progressive enhancement only. Every form works without this.
(function () {
  "use strict";
  // The live duplicate hint while typing the account.
  var form = document.querySelector("form[data-hint-form]");
  var out = document.getElementById("dup-hint");
  if (form && out) {
    var timer = 0, last = "";
    var ask = function () {
      var q = new URLSearchParams();
      ["company_name", "domain", "country"].forEach(function (k) {
        q.set(k, form.elements["account." + k].value);
      });
      if (form.dataset.id) q.set("id", form.dataset.id);
      var s = q.toString();
      if (s === last) return;
      last = s;
      fetch("/portal/duplicate-hint?" + s, { credentials: "same-origin" }).then(function (r) {
        var hint = r.headers.get("X-Hint") || "";
        return r.text().then(function (t) {
          out.textContent = t;
          out.className = "hint hint-" + hint;
          out.dataset.hint = hint;
          out.hidden = false;
        });
      });
    };
    ["account.company_name", "account.domain", "account.country"].forEach(function (n) {
      form.elements[n].addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(ask, 350);
      });
    });
    if (form.elements["account.company_name"].value) ask();
  }
  // Drag and drop a proof document onto its form.
  document.querySelectorAll("form[data-drop]").forEach(function (f) {
    var input = f.querySelector("input[type=file]");
    f.addEventListener("dragover", function (e) { e.preventDefault(); f.classList.add("dragging"); });
    f.addEventListener("dragleave", function () { f.classList.remove("dragging"); });
    f.addEventListener("drop", function (e) {
      e.preventDefault();
      f.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; f.requestSubmit(); }
    });
  });
  // Bring the error summary into view.
  var errs = document.getElementById("errors");
  if (errs) errs.focus();
})();
