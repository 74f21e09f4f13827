/* Live filter for a long select (e.g. ~430 municipalities): typing into an input with
   data-filter-select="<select id>" narrows the select's options. Progressive enhancement:
   without JavaScript the same input submits a server-side search (GET ?suche=). */
(function () {
  "use strict";
  function normalise(text) { return text.toLocaleLowerCase("de-DE"); }
  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("[data-filter-select]");
    Array.prototype.forEach.call(inputs, function (input) {
      var select = document.getElementById(input.getAttribute("data-filter-select"));
      if (!select) { return; }
      var status = document.getElementById(input.getAttribute("aria-describedby") || "");
      var all = Array.prototype.map.call(select.options, function (o) {
        return { value: o.value, text: o.text };
      });
      input.addEventListener("input", function () {
        var needle = normalise(input.value.trim());
        var chosen = select.value;
        var hits = all.filter(function (o) {
          return o.value === "" || needle === "" || normalise(o.text).indexOf(needle) !== -1;
        });
        select.options.length = 0;
        hits.forEach(function (o) {
          var option = new Option(o.text, o.value);
          option.selected = o.value === chosen;
          select.add(option);
        });
        var count = hits.filter(function (o) { return o.value !== ""; }).length;
        if (count === 1 && select.options.length === 2) { select.selectedIndex = 1; }
        if (status) {
          var template = status.getAttribute(count === 1 ? "data-one" : "data-many") || "";
          status.textContent = needle ? template.replace(/\d+/, String(count)) : "";
        }
      });
      var form = input.form;
      if (form) {  /* typing Enter filters live; no page reload needed */
        form.addEventListener("submit", function (event) { event.preventDefault(); });
      }
    });
  });
})();
