/* Show only the parts of a metadata form that apply to the answers given so
 * far (e.g. Blok V only for surveys). The rules come from the schema via
 * #umkm-conditions; the server-side validators enforce the same rules and drop
 * answers to parts that do not apply. */
(function () {
  "use strict";
  function start() {
    var blob = document.getElementById("umkm-conditions");
    if (!blob) { return; }
    var conditions = JSON.parse(blob.textContent || "{}");
    var form = blob.closest("form") || document;

    function wrapperOf(name) {
      var el = form.querySelector('[name="' + name + '"]');
      return el ? el.closest(".form-group, .control-group") : null;
    }
    function valuesOf(name) {
      var wrapper = wrapperOf(name);
      if (wrapper && wrapper.hidden) { return []; }
      var out = [];
      form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
        var checkable = el.type === "checkbox" || el.type === "radio";
        if ((!checkable || el.checked) && el.value) { out.push(el.value); }
      });
      return out;
    }
    function update() {
      // Conditions may depend on conditional fields: repeat until stable.
      for (var pass = 0; pass < 5; pass++) {
        var changed = false;
        Object.keys(conditions).forEach(function (name) {
          var c = conditions[name];
          var applies = valuesOf(c.field).some(function (v) {
            return c.values.map(String).indexOf(v) >= 0;
          });
          var wrapper = wrapperOf(name);
          if (wrapper && wrapper.hidden === applies) {
            wrapper.hidden = !applies;
            changed = true;
          }
        });
        if (!changed) { break; }
      }
    }
    form.addEventListener("change", update);
    update();

    // Every repeating field offers an empty row; a row left wholly blank is
    // not an answer, so it is not sent (its required subfields would fail).
    form.addEventListener("submit", function () {
      form.querySelectorAll(".scheming-subfield-group").forEach(function (group) {
        var inputs = group.querySelectorAll("input, select, textarea");
        var blank = Array.prototype.every.call(inputs, function (el) {
          if (el.type === "checkbox" || el.type === "radio") { return !el.checked; }
          return !String(el.value || "").trim();
        });
        if (blank) {
          inputs.forEach(function (el) { el.disabled = true; });
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
