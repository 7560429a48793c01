// The report form: a named range (today, last month …) fills the dates and runs the report;
// a date typed by hand makes the range "custom" so the server takes the dates as given.
"use strict";
(function () {
  const form = document.getElementById("report-form");
  if (!form) return;
  const preset = document.getElementById("f-preset");
  if (preset) {
    preset.addEventListener("change", () => { if (preset.value) form.requestSubmit(); });
    for (const id of ["f-first", "f-last"]) {
      const input = document.getElementById(id);
      if (input) input.addEventListener("change", () => { preset.value = ""; });
    }
  }
  // Leave out empty fields: the address stays short and readable.
  form.addEventListener("formdata", (event) => {
    for (const [name, value] of [...event.formData.entries()]) {
      if (value === "") event.formData.delete(name);
    }
  });
})();
