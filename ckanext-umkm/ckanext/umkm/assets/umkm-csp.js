/* What CKAN's templates did in inline onclick handlers, which the portal's
 * Content-Security-Policy does not run: buttons name their action in
 * data-umkm-action (templates/package/snippets/resource_upload_field.html,
 * templates/datatables/datatables_view.html). */
(function () {
  "use strict";
  function byId(id) { return id ? document.getElementById(id) : null; }
  function check(id) { var el = byId(id); if (el) { el.checked = true; } }
  var actions = {
    upload: function () { check("resource-url-upload"); var f = byId("field-resource-upload"); if (f) { f.click(); } },
    link: function () { check("resource-url-link"); var f = byId("field-resource-url"); if (f) { f.focus(); } },
    "clear-upload": function () { check("field-clear-upload"); var f = byId("field-resource-upload"); if (f) { f.focus(); } },
    remove: function (button) {
      check("resource-url-none");
      var clear = byId(button.getAttribute("data-umkm-clear"));
      if (clear) { clear.value = ""; clear.dispatchEvent(new Event("change", { bubbles: true })); }
      var focus = byId(button.getAttribute("data-umkm-focus")); if (focus) { focus.focus(); }
    },
    refit: function () { if (typeof window.fitColText === "function") { window.fitColText(); } }
  };
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-umkm-action]") : null;
    if (!button || !actions[button.getAttribute("data-umkm-action")]) { return; }
    event.preventDefault();
    actions[button.getAttribute("data-umkm-action")](button);
  });
})();
