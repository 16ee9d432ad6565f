/* The "select all" box of django-import-export's export form (templates/admin/import_export/
 * export.html). The package binds it with an inline onchange attribute, which the
 * Content-Security-Policy blocks; this binds the same handler from a static file.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.select-toggle")) {
      return;
    }
    var rows = document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]');
    rows.forEach(function (checkbox) {
      checkbox.checked = box.checked;
    });
  });
})();
