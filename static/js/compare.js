// The compare page works without this file: "Differences only" is a link (?diff=1). With it, the switch hides
// and shows the equal rows at once and keeps the address in step, and a Print button appears.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("comparison");
  const toggle = document.getElementById("diff-switch");
  if (table && toggle) {
    toggle.addEventListener("click", (event) => {
      event.preventDefault();
      const on = table.classList.toggle("only-differences");
      const target = toggle.getAttribute("href");
      toggle.setAttribute("href", toggle.dataset.otherHref);
      toggle.dataset.otherHref = target;
      toggle.setAttribute("aria-checked", String(on));
      toggle.textContent = `Differences only: ${on ? "on" : "off"}`;
      window.history.replaceState(null, "", target);
      document.querySelectorAll(".lang a, a.csv, a.drop").forEach((link) => {
        const url = new URL(link.href);
        if (on) url.searchParams.set("diff", "1"); else url.searchParams.delete("diff");
        link.href = url.toString();
      });
    });
  }
  document.querySelectorAll(".print-button").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
