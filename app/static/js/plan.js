/* Live totals of the financing plan. Mirrors app/grants/services/financing.py; the server's
   computation on save is authoritative. All arithmetic is in integer cents (no floats). */
(function () {
  "use strict";

  function parseCents(text) {
    if (!text) { return 0; }
    var s = String(text).replace(/€|EUR|\s|\u00a0/g, "");
    if (!s) { return 0; }
    var german = /^-?\d{1,3}(\.\d{3})*(,\d{1,2})?$|^-?\d+(,\d{1,2})?$/;
    var point = /^-?\d+(\.\d{1,2})?$/;
    var norm;
    if (german.test(s) && !(point.test(s) && s.indexOf(".") >= 0 && s.split(".").pop().length !== 3)) {
      norm = s.replace(/\./g, "").replace(",", ".");
    } else if (point.test(s)) {
      norm = s;
    } else {
      return null;
    }
    var neg = norm.charAt(0) === "-";
    if (neg) { norm = norm.slice(1); }
    var parts = norm.split(".");
    var cents = parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
    return neg ? -cents : cents;
  }

  function formatCents(c) {
    var neg = c < 0; c = Math.abs(c);
    var euros = Math.floor(c / 100), rest = c % 100;
    var grouped = String(euros).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (neg ? "-" : "") + grouped + "," + (rest < 10 ? "0" : "") + rest + "\u00a0€";
  }

  function parsePermille(text) {
    var m = /^(0|1)([,.](\d{1,3}))?$/.exec(String(text || "").trim());
    if (!m) { return null; }
    var v = parseInt(m[1], 10) * 1000 + (m[3] ? parseInt((m[3] + "000").slice(0, 3), 10) : 0);
    return v > 0 && v <= 1000 ? v : null;
  }

  var MONEY = ".js-amount, #own_share_cash, #third_party, #requested_grant";

  /* A zero amount ("0,00" on a new plan) is selected when the field gets the focus, so that
     typing replaces it instead of appending to it ("0,0018.000" is no amount). A mouse click
     places the caret after the focus event, hence the second selection after it. */
  function selectZeroOnFocus(form) {
    function isZero(el) { return el.value.trim() !== "" && parseCents(el.value) === 0; }
    form.addEventListener("focusin", function (ev) {
      var el = ev.target;
      if (!el.matches || !el.matches(MONEY) || !isZero(el)) { return; }
      el.select();
      window.setTimeout(function () {
        if (document.activeElement === el && isZero(el)) { el.select(); }
      }, 0);
    });
  }

  /* Amounts the live totals cannot read are marked (and counted as 0 until corrected). */
  function markUnreadable(form) {
    form.querySelectorAll(MONEY).forEach(function (el) {
      var bad = el.value.trim() !== "" && parseCents(el.value) === null;
      if (bad) {
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("data-js-invalid", "");
      } else if (el.hasAttribute("data-js-invalid")) {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("data-js-invalid");
      }
    });
  }

  function val(row, cls) { var el = row.querySelector(cls); return el ? el.value : ""; }
  function checked(row, cls) { var el = row.querySelector(cls); return !!(el && el.checked); }

  function recompute(form) {
    var caps = JSON.parse(form.getAttribute("data-caps") || "{}");
    var capGroups = JSON.parse(form.getAttribute("data-cap-groups") || "{}");
    var i18n = document.getElementById("i18n").dataset;
    var t = { total: 0, investive: 0, eligible: 0, inkind: 0 };
    form.querySelectorAll("tr.plan-line").forEach(function (row) {
      var category = val(row, ".js-category");
      row.setAttribute("data-category", category);
      if (checked(row, ".js-remove")) { return; }
      var amount = parseCents(val(row, ".js-amount")) || 0;
      t.total += amount;
      if (checked(row, ".js-inkind")) { t.inkind += amount; }
      var eligible = amount, note = "";
      if (category === "running" && checked(row, ".js-investive")) {
        t.investive += amount; eligible = 0;
      } else if (category === "staff") {
        var group = capGroups[val(row, ".js-qual")];
        var fte = parsePermille(val(row, ".js-fte"));
        var months = parseInt(val(row, ".js-months"), 10);
        if (group && caps[group] && fte && months > 0) {
          var cap = Math.floor(caps[group] * fte * months / 1000);
          note = i18n.cap + " " + formatCents(cap);
          if (amount > cap) { eligible = cap; note += " – " + i18n.capped + " " + formatCents(cap); }
        }
      }
      var capEl = row.querySelector(".js-cap"); if (capEl) { capEl.textContent = note; }
      t.eligible += eligible;
    });
    var own = (parseCents(form.querySelector("#own_share_cash").value) || 0) + t.inkind;
    var third = parseCents(form.querySelector("#third_party").value) || 0;
    var grant = parseCents(form.querySelector("#requested_grant").value) || 0;
    var financing = own + third + grant, diff = t.total - financing;
    function set(id, cents) { document.getElementById(id).textContent = formatCents(cents); }
    set("t-total", t.total); set("t-investive", t.investive); set("t-eligible", t.eligible);
    set("t-inkind", t.inkind); set("t-own", own); set("t-financing", financing); set("t-diff", diff);
    var rate = t.eligible > 0 ? Math.floor(grant * 10000 / t.eligible) : null;
    document.getElementById("t-rate").textContent = rate === null ? "—"
      : (Math.floor(rate / 100) + "," + ("0" + rate % 100).slice(-2) + " %");
    var bal = document.getElementById("t-balance");
    var balanced = diff === 0 && t.total > 0;
    bal.setAttribute("data-balanced", balanced ? "yes" : "no");
    bal.textContent = balanced ? i18n.balanced : i18n.unbalanced;
    markUnreadable(form);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-plan]");
    if (!form) { return; }
    var tbody = document.getElementById("plan-lines");
    var template = document.getElementById("line-template");
    form.querySelectorAll(".js-add").forEach(function (button) {
      button.addEventListener("click", function (ev) {
        ev.preventDefault();
        var index = tbody.querySelectorAll("tr.plan-line").length;
        // Field names must read "lines-<n>-<field>" (WTForms FieldList). Accept a template
        // rendered with or without the separator after the placeholder.
        var html = template.innerHTML.replace(/__index__-?/g, String(index) + "-");
        tbody.insertAdjacentHTML("beforeend", html);
        var row = tbody.lastElementChild;
        row.querySelector(".js-category").value = button.getAttribute("data-category");
        row.setAttribute("data-category", button.getAttribute("data-category"));
        var first = row.querySelector("input[type=text], input:not([type])");
        if (first) { first.focus(); }
        recompute(form);
      });
    });
    selectZeroOnFocus(form);
    form.addEventListener("input", function () { recompute(form); });
    form.addEventListener("change", function () { recompute(form); });
    recompute(form);
  });
})();
