// The tray works without this file: its forms post and the page comes back. With it, adding or removing a trial
// updates the tray and the page's buttons in place.
document.addEventListener("DOMContentLoaded", () => {
  const label = { add: "Add to comparison", remove: "✓ In comparison: remove" };

  function syncButtons(tray) {
    const chosen = new Set((tray.dataset.ids || "").split(",").filter(Boolean));
    document.querySelectorAll("button.tray-toggle").forEach((button) => {
      const action = chosen.has(button.value) ? "remove" : "add";
      button.name = action;
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
      const response = await fetch(form.action, {
        method: "POST", body: data, headers: { "X-Tray": "fragment" }, credentials: "same-origin",
      });
      if (!response.ok) throw new Error(response.statusText);
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const tray = holder.firstElementChild;
      document.getElementById("compare-tray").replaceWith(tray);
      syncButtons(tray);
    } catch (error) {
      // Fall back to the plain form; submit() sends no button, so the button's change goes in a field.
      if (event.submitter) {
        const change = document.createElement("input");
        Object.assign(change, { type: "hidden", name: event.submitter.name, value: event.submitter.value });
        form.append(change);
      }
      form.submit();
    }
  });
});
