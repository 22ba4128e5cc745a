// The page works without this file (Apply and Sort buttons submit the form). With it, choosing a sort
// applies at once, and empty fields stay out of the URL.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.search");
  if (!form) return;
  form.querySelectorAll(".no-js").forEach((element) => { element.hidden = true; });
  const sort = document.getElementById("sort");
  if (sort) sort.addEventListener("change", () => form.requestSubmit());
  form.addEventListener("submit", () => {
    form.querySelectorAll("input, select").forEach((field) => {
      if (!field.value || (field.name === "sort" && field.value === "relevance")) field.disabled = true;
    });
  });
});
