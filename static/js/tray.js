// The tray works without this file: its forms post and the page comes back. With it, adding or removing a trial
// updates the tray and the page's buttons in place.
document.addEventListener("DOMContentLoaded", () => {
  const label = { add: "Add to comparison", remove: "✓ In comparison: remove" };

  function syncButtons(tray) {
    const chosen = new Set((tray.dataset.ids || "").split(",").filter(Boolean));
    document.querySelectorAll("button.tray-toggle").forEach((button) => {
      const action = chosen.has(button.dataset.registryId) ? "remove" : "add";
      button.value = action;
      button.textContent = label[action];
    });
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form.tray-form")) return;
    event.preventDefault();
    const data = new FormData(form, event.submitter);
    data.set("next", window.location.pathname + window.location.search);
    try {
      // form.action would be the button named "action", hence the attribute.
      const response = await fetch(form.getAttribute("action"), {
        method: "POST", body: data, headers: { "X-Tray": "fragment" }, credentials: "same-origin",
      });
      if (!response.ok) throw new Error(response.statusText);
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const tray = holder.firstElementChild;
      document.getElementById("compare-tray").replaceWith(tray);
      syncButtons(tray);
    } catch (error) {
      // Fall back to the plain form; submit() sends no button, so the button's action goes in a field.
      const action = document.createElement("input");
      Object.assign(action, { type: "hidden", name: "action", value: event.submitter ? event.submitter.value : "" });
      form.append(action);
      form.submit();
    }
  });
});
