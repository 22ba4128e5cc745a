// Without this file the page works the same with its Apply button; with it, choosing a sort applies at once.
document.addEventListener("DOMContentLoaded", () => {
  const sort = document.getElementById("sort");
  if (sort) sort.addEventListener("change", () => sort.form.requestSubmit());
});
